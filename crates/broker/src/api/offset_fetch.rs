//! OffsetFetch: committed offsets of one group (v1–7) or several (v8+); all of a group's
//! partitions when no topics are named. Unknown partitions answer offset -1. From v9 a KIP-848
//! member's epoch is checked (STALE_MEMBER_EPOCH, UNKNOWN_MEMBER_ID). With `require_stable`
//! (v7+), a partition whose offset awaits a transaction's outcome answers
//! UNSTABLE_OFFSET_COMMIT (retriable); without it, the last committed offset.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{OffsetFetchRequest, OffsetFetchResponse, TopicName};
use uuid::Uuid;

use super::str_bytes;
use crate::server::BrokerContext;

/// (topic, topic id, [(partition, offset, leader epoch, metadata, error)]) for one group.
type Answer = Vec<(String, Uuid, Vec<(i32, i64, i32, String, i16)>)>;

fn lookup(
    context: &BrokerContext,
    group: &str,
    wanted: Option<Vec<(String, Uuid, Vec<i32>)>>,
    require_stable: bool,
) -> Answer {
    let committed = context.coordinator.committed(group);
    let mut answer = lookup_committed(context, &committed, wanted);
    if require_stable {
        for (topic, _, rows) in &mut answer {
            for row in rows.iter_mut() {
                if context.coordinator.has_pending(group, topic, row.0) {
                    *row = (
                        row.0,
                        -1,
                        -1,
                        String::new(),
                        ResponseError::UnstableOffsetCommit.code(),
                    );
                }
            }
        }
    }
    answer
}

fn lookup_committed(
    context: &BrokerContext,
    committed: &crate::coordinator::GroupOffsets,
    wanted: Option<Vec<(String, Uuid, Vec<i32>)>>,
) -> Answer {
    match wanted {
        None => {
            let mut out: Answer = Vec::new();
            for ((topic, partition), value) in committed.clone() {
                let id = context.topics.get(&topic).map_or(Uuid::nil(), |t| t.id);
                let row = (
                    partition,
                    value.offset,
                    value.leader_epoch,
                    value.metadata,
                    0,
                );
                match out.last_mut() {
                    Some((name, _, rows)) if *name == topic => rows.push(row),
                    _ => out.push((topic, id, vec![row])),
                }
            }
            out
        }
        Some(topics) => topics
            .into_iter()
            .map(|(topic, id, partitions)| {
                let rows = partitions
                    .into_iter()
                    .map(|p| match committed.get(&(topic.clone(), p)) {
                        Some(v) => (p, v.offset, v.leader_epoch, v.metadata.clone(), 0),
                        None => (p, -1, -1, String::new(), 0),
                    })
                    .collect();
                (topic, id, rows)
            })
            .collect(),
    }
}

/// Handles an OffsetFetch request of any supported version.
pub fn handle(
    context: &BrokerContext,
    request: OffsetFetchRequest,
    version: i16,
) -> OffsetFetchResponse {
    if version < 8 {
        let wanted = request.topics.map(|topics| {
            topics
                .into_iter()
                .map(|t| (t.name.to_string(), Uuid::nil(), t.partition_indexes))
                .collect()
        });
        let require_stable = version >= 7 && request.require_stable;
        let topics = lookup(context, &request.group_id, wanted, require_stable)
            .into_iter()
            .map(|(name, _, rows)| {
                let partitions = rows
                    .into_iter()
                    .map(|(p, offset, epoch, metadata, error)| {
                        OffsetFetchResponsePartition::default()
                            .with_partition_index(p)
                            .with_committed_offset(offset)
                            .with_committed_leader_epoch(epoch)
                            .with_metadata(Some(str_bytes(metadata)))
                            .with_error_code(error)
                    })
                    .collect();
                OffsetFetchResponseTopic::default()
                    .with_name(TopicName(str_bytes(name)))
                    .with_partitions(partitions)
            })
            .collect();
        let error = if request.group_id.is_empty() {
            ResponseError::InvalidGroupId.code()
        } else {
            0
        };
        return OffsetFetchResponse::default()
            .with_topics(topics)
            .with_error_code(error);
    }
    let groups = request
        .groups
        .into_iter()
        .map(|group| {
            // v9+: a KIP-848 member names itself and its epoch, which must be current.
            if let Some(member) = group.member_id.as_ref().filter(|_| group.member_epoch >= 0)
                && let Some(code) = context.coordinator.consumer_groups.check_member(
                    &group.group_id,
                    group.member_epoch,
                    member,
                )
                && code != 0
            {
                return OffsetFetchResponseGroup::default()
                    .with_group_id(group.group_id)
                    .with_error_code(code);
            }
            let wanted = group.topics.map(|topics| {
                topics
                    .into_iter()
                    .map(|t| {
                        let name = if version >= 10 {
                            context
                                .topics
                                .get_by_id(t.topic_id)
                                .map_or_else(String::new, |topic| topic.name.clone())
                        } else {
                            t.name.to_string()
                        };
                        (name, t.topic_id, t.partition_indexes)
                    })
                    .collect()
            });
            let topics = lookup(context, &group.group_id, wanted, request.require_stable)
                .into_iter()
                .map(|(name, id, rows)| {
                    let partitions = rows
                        .into_iter()
                        .map(|(p, offset, epoch, metadata, error)| {
                            OffsetFetchResponsePartitions::default()
                                .with_partition_index(p)
                                .with_committed_offset(offset)
                                .with_committed_leader_epoch(epoch)
                                .with_metadata(Some(str_bytes(metadata)))
                                .with_error_code(error)
                        })
                        .collect();
                    OffsetFetchResponseTopics::default()
                        .with_name(TopicName(str_bytes(name)))
                        .with_topic_id(id)
                        .with_partitions(partitions)
                })
                .collect();
            OffsetFetchResponseGroup::default()
                .with_group_id(group.group_id)
                .with_topics(topics)
        })
        .collect();
    OffsetFetchResponse::default().with_groups(groups)
}
