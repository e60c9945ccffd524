//! The group coordinator, first slice: committed offsets. Offsets are kept in the compacted
//! `__consumer_offsets` topic (50 partitions by default, like Kafka) in Kafka's key/value
//! formats ([`records`]), loaded at start and served from memory.
//!
//! Membership and rebalancing of classic groups live in [`membership`], KIP-848 consumer groups
//! in [`consumer_groups`] (with the server-side [`assignors`]); commits are checked against
//! them (members commit with their generation or member epoch; standalone commits, generation
//! -1 and no member id, are for groups without members, as consumers that `assign()`
//! partitions send them).
//!
//! Transactional offset commits (TxnOffsetCommit) are written as transactional batches of the
//! producer and stay pending — invisible to OffsetFetch — until the transaction's COMMIT
//! marker reaches the offsets partition; an ABORT marker discards them. Loading replays the
//! same rules from the log.

pub mod assignors;
pub mod consumer_groups;
pub mod membership;
pub mod records;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use brook_protocol::{Compression, RecordBatchBuilder};

use crate::topics::{Topic, TopicError, TopicRegistry};
use records::{OffsetCommitValue, OffsetsKey};

/// Name of the offsets topic.
pub const OFFSETS_TOPIC: &str = "__consumer_offsets";

/// Committed offsets of one group: (topic, partition) → value.
pub type GroupOffsets = BTreeMap<(String, i32), OffsetCommitValue>;

/// Committed offsets for every group. `Sync`; commits to one broker are serialized so that
/// the log and the in-memory view always agree on the latest value.
#[derive(Debug)]
pub struct GroupCoordinator {
    /// Members, generations and rebalances of classic groups.
    pub membership: membership::Membership,
    /// KIP-848 consumer groups.
    pub consumer_groups: consumer_groups::ConsumerGroups,
    topic: Arc<Topic>,
    offsets: Mutex<HashMap<String, GroupOffsets>>,
    /// Transactional commits waiting for their marker: producer id → group → offsets.
    pending: Mutex<PendingTxnOffsets>,
}

/// Transactional offset commits not yet committed or aborted, by producer id and group.
type PendingTxnOffsets = HashMap<i64, HashMap<String, GroupOffsets>>;

/// Why a commit could not be stored.
#[derive(Debug, thiserror::Error)]
#[error("cannot store offsets of group '{group}': {source}")]
pub struct CommitError {
    /// Group id.
    pub group: String,
    /// What the log said.
    #[source]
    pub source: brook_log::AppendError,
}

impl GroupCoordinator {
    /// Opens (creating if needed) `__consumer_offsets` and loads every committed offset.
    pub fn start(
        topics: &TopicRegistry,
        partitions: i32,
        classic_settings: membership::Settings,
        consumer_settings: consumer_groups::Settings,
    ) -> Result<Self, TopicError> {
        let topic = match topics.get(OFFSETS_TOPIC) {
            Some(topic) => topic,
            None => {
                let overrides = [
                    ("cleanup.policy", "compact"),
                    ("segment.bytes", "104857600"),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
                topics.create(OFFSETS_TOPIC, partitions, overrides, false)?
            }
        };
        let mut offsets: HashMap<String, GroupOffsets> = HashMap::new();
        let mut stored_groups: HashMap<String, records::GroupMetadataValue> = HashMap::new();
        let mut pending: PendingTxnOffsets = HashMap::new();
        let mut loaded = 0usize;
        topic.replay(|batch| {
            if let Ok(Some(marker)) = brook_protocol::control::batch_marker(batch) {
                let commit = marker.control_type == brook_protocol::control::ControlType::Commit;
                complete_pending(&mut pending, &mut offsets, batch.producer_id(), commit);
                return;
            }
            let transactional = batch.attributes().is_transactional();
            let Ok(records) = batch.records() else {
                return;
            };
            for record in records {
                let key = record.key.as_deref().and_then(records::decode_key);
                if let Some(OffsetsKey::GroupMetadata { group }) = &key {
                    match record
                        .value
                        .as_deref()
                        .and_then(records::decode_group_value)
                    {
                        Some(found) => stored_groups.insert(group.clone(), found),
                        None => stored_groups.remove(group),
                    };
                    continue;
                }
                let Some(OffsetsKey::OffsetCommit {
                    group,
                    topic,
                    partition,
                }) = key
                else {
                    continue;
                };
                let group_offsets = if transactional {
                    pending
                        .entry(batch.producer_id())
                        .or_default()
                        .entry(group)
                        .or_default()
                } else {
                    offsets.entry(group).or_default()
                };
                match record
                    .value
                    .as_deref()
                    .and_then(records::decode_offset_value)
                {
                    Some(value) => {
                        group_offsets.insert((topic, partition), value);
                        loaded += 1;
                    }
                    None => {
                        group_offsets.remove(&(topic, partition));
                    }
                }
            }
        })?;
        offsets.retain(|_, group| !group.is_empty());
        tracing::info!(
            groups = offsets.len(),
            records = loaded,
            "loaded committed offsets"
        );
        let membership = membership::Membership::new(classic_settings);
        for (group, stored) in stored_groups {
            membership.restore(&group, stored);
        }
        Ok(GroupCoordinator {
            membership,
            consumer_groups: consumer_groups::ConsumerGroups::new(consumer_settings),
            topic,
            offsets: Mutex::new(offsets),
            pending: Mutex::new(pending),
        })
    }

    /// The `__consumer_offsets` partition that stores `group`.
    pub fn partition_for(&self, group: &str) -> i32 {
        records::partition_for(group, self.topic.partitions.len() as i32)
    }

    /// Stores a transactional offset commit (TxnOffsetCommit): one transactional batch of the
    /// producer appended to the group's offsets partition; the offsets stay pending until
    /// [`GroupCoordinator::complete_transaction`].
    pub fn commit_transactional(
        &self,
        group: &str,
        producer_id: i64,
        producer_epoch: i16,
        entries: Vec<(String, i32, OffsetCommitValue)>,
    ) -> Result<(), CommitError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let builder = RecordBatchBuilder::new(Compression::None)
            .producer(producer_id, producer_epoch, -1)
            .transactional(true);
        self.append_for(group, offsets_batch(builder, group, &entries))?;
        let group_offsets = pending
            .entry(producer_id)
            .or_default()
            .entry(group.to_string())
            .or_default();
        for (topic, partition, value) in entries {
            group_offsets.insert((topic, partition), value);
        }
        Ok(())
    }

    /// Applies (commit) or drops (abort) the producer's pending transactional offsets for the
    /// groups stored in offsets partition `partition`, once the marker is written there.
    pub fn complete_transaction(&self, partition: i32, producer_id: i64, commit: bool) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let Some(groups) = pending.get_mut(&producer_id) else {
            return;
        };
        let here: Vec<String> = groups
            .keys()
            .filter(|group| self.partition_for(group) == partition)
            .cloned()
            .collect();
        let mut done: PendingTxnOffsets = HashMap::new();
        for group in here {
            if let Some(offsets) = groups.remove(&group) {
                done.entry(producer_id).or_default().insert(group, offsets);
            }
        }
        if groups.is_empty() {
            pending.remove(&producer_id);
        }
        drop(pending);
        let mut offsets = self.offsets.lock().unwrap_or_else(|p| p.into_inner());
        complete_pending(&mut done, &mut offsets, producer_id, commit);
    }

    /// Whether `group` has transactional offsets for `(topic, partition)` awaiting their
    /// transaction's end (OffsetFetch with `require_stable` answers UNSTABLE_OFFSET_COMMIT).
    pub fn has_pending(&self, group: &str, topic: &str, partition: i32) -> bool {
        let key = (topic.to_string(), partition);
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .any(|groups| groups.get(group).is_some_and(|o| o.contains_key(&key)))
    }

    /// Writes the group's membership (GroupMetadataKey/Value) to `__consumer_offsets`, as
    /// Kafka does when a rebalance completes or the group empties.
    pub fn store_group(&self, group: &str) {
        let Some(value) = self.membership.snapshot(group) else {
            return;
        };
        let _serialize = self.offsets.lock().unwrap_or_else(|p| p.into_inner());
        let mut builder = RecordBatchBuilder::new(Compression::None);
        builder.append(
            value.current_state_timestamp,
            Some(&records::encode_group_key(group)),
            Some(&records::encode_group_value(&value)),
            &[],
        );
        if let Err(e) = self.append_for(group, builder) {
            tracing::warn!(error = %e, "storing group metadata failed");
        }
    }

    /// Stores `entries` for `group`: one batch appended to the group's offsets partition, then
    /// the in-memory view updated.
    pub fn commit(
        &self,
        group: &str,
        entries: Vec<(String, i32, OffsetCommitValue)>,
    ) -> Result<(), CommitError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut offsets = self.offsets.lock().unwrap_or_else(|p| p.into_inner());
        let builder = RecordBatchBuilder::new(Compression::None);
        self.append_for(group, offsets_batch(builder, group, &entries))?;
        let group_offsets = offsets.entry(group.to_string()).or_default();
        for (topic, partition, value) in entries {
            group_offsets.insert((topic, partition), value);
        }
        Ok(())
    }

    /// Appends a batch of offset records to the `__consumer_offsets` partition that owns `group`.
    fn append_for(&self, group: &str, builder: RecordBatchBuilder) -> Result<(), CommitError> {
        let index = records::partition_for(group, self.topic.partitions.len() as i32);
        self.topic.partitions[index as usize]
            .log
            .append(&builder.build())
            .map(|_| ())
            .map_err(|source| CommitError {
                group: group.to_string(),
                source,
            })
    }

    /// Deletes committed offsets (tombstones in `__consumer_offsets`); returns how many existed.
    pub fn delete_offsets(
        &self,
        group: &str,
        partitions: &[(String, i32)],
    ) -> Result<usize, CommitError> {
        let mut offsets = self.offsets.lock().unwrap_or_else(|p| p.into_inner());
        let Some(group_offsets) = offsets.get_mut(group) else {
            return Ok(0);
        };
        let present: Vec<&(String, i32)> = partitions
            .iter()
            .filter(|k| group_offsets.contains_key(*k))
            .collect();
        if present.is_empty() {
            return Ok(0);
        }
        let now = crate::now_ms();
        let mut builder = RecordBatchBuilder::new(Compression::None);
        for (topic, partition) in &present {
            builder.append(
                now,
                Some(&records::encode_offset_key(group, topic, *partition)),
                None,
                &[],
            );
        }
        self.append_for(group, builder)?;
        let count = present.len();
        for key in partitions {
            group_offsets.remove(key);
        }
        if group_offsets.is_empty() {
            offsets.remove(group);
        }
        Ok(count)
    }

    /// Deletes the committed offsets of groups without members once `retention` (Kafka's
    /// `offsets.retention.minutes`) has passed since the group became empty, or since the
    /// commit when that is later or the group never had members. Returns how many were
    /// deleted.
    pub fn expire_offsets(&self, retention: std::time::Duration) -> usize {
        let now = crate::now_ms();
        let cutoff = now.saturating_sub(retention.as_millis() as i64);
        let stale: Vec<(String, Vec<(String, i32)>)> = {
            let offsets = self.offsets.lock().unwrap_or_else(|p| p.into_inner());
            offsets
                .iter()
                .filter(|(group, _)| !self.is_active(group))
                .map(|(group, committed)| {
                    // KIP-211: a group's offsets count from when it became empty; offsets
                    // committed without a group (or later) count from their commit.
                    let emptied = self
                        .membership
                        .empty_since(group)
                        .or_else(|| self.consumer_groups.empty_since(group))
                        .unwrap_or(i64::MIN);
                    let old = committed
                        .iter()
                        .filter(|(_, v)| v.commit_timestamp.max(emptied) < cutoff)
                        .map(|(k, _)| k.clone())
                        .collect();
                    (group.clone(), old)
                })
                .filter(|(_, old): &(String, Vec<(String, i32)>)| !old.is_empty())
                .collect()
        };
        let mut deleted = 0;
        for (group, partitions) in stale {
            match self.delete_offsets(&group, &partitions) {
                Ok(n) => deleted += n,
                Err(e) => tracing::warn!(error = %e, "offset expiry failed"),
            }
        }
        deleted
    }

    /// Whether the group (classic or consumer) has members now.
    pub fn is_active(&self, group: &str) -> bool {
        self.membership.is_active(group) || self.consumer_groups.is_active(group)
    }

    /// Groups with committed offsets.
    pub fn groups_with_offsets(&self) -> Vec<String> {
        self.offsets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// The committed offsets of `group` (empty when it has none).
    pub fn committed(&self, group: &str) -> GroupOffsets {
        self.offsets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(group)
            .cloned()
            .unwrap_or_default()
    }
}

/// Moves a producer's pending transactional offsets into the committed ones (commit) or drops
/// them (abort).
fn complete_pending(
    pending: &mut PendingTxnOffsets,
    offsets: &mut HashMap<String, GroupOffsets>,
    producer_id: i64,
    commit: bool,
) {
    let Some(groups) = pending.remove(&producer_id) else {
        return;
    };
    if !commit {
        return;
    }
    for (group, committed) in groups {
        offsets.entry(group).or_default().extend(committed);
    }
}

/// `builder` with one OffsetCommit record per entry.
fn offsets_batch(
    mut builder: RecordBatchBuilder,
    group: &str,
    entries: &[(String, i32, OffsetCommitValue)],
) -> RecordBatchBuilder {
    for (topic, partition, value) in entries {
        builder.append(
            value.commit_timestamp,
            Some(&records::encode_offset_key(group, topic, *partition)),
            Some(&records::encode_offset_value(value)),
            &[],
        );
    }
    builder
}
