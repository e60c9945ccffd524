//! OffsetCommit: commits from group members (checked against their generation, or their member
//! epoch in KIP-848 consumer groups) and standalone commits (generation or epoch -1: admin
//! clients and `assign()` consumers) for groups without members, stored in
//! `__consumer_offsets`. The rules are Kafka 4's.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::{OffsetCommitRequest, OffsetCommitResponse};

use crate::coordinator::membership::CommitIdentity;
use crate::coordinator::records::OffsetCommitValue;
use crate::errors::append_error_code;
use crate::server::BrokerContext;

/// Kafka's `offset.metadata.max.bytes`.
const MAX_METADATA_BYTES: usize = 4096;

/// Handles an OffsetCommit request of any supported version.
pub fn handle(
    context: &BrokerContext,
    request: OffsetCommitRequest,
    version: i16,
) -> OffsetCommitResponse {
    let group = request.group_id.to_string();
    let group_error = if group.is_empty() {
        Some(ResponseError::InvalidGroupId.code())
    } else {
        let (epoch, member) = (request.generation_id_or_member_epoch, &request.member_id);
        let code = match context
            .coordinator
            .consumer_groups
            .check_member(&group, epoch, member)
        {
            Some(code) => code,
            None => context
                .coordinator
                .membership
                .check_commit(&CommitIdentity {
                    group_id: &group,
                    generation: epoch,
                    member_id: member,
                    instance_id: request.group_instance_id.as_deref(),
                    version,
                }),
        };
        match code {
            0 => None,
            code => Some(code),
        }
    };
    let now = crate::now_ms();
    let mut entries = Vec::new();
    let mut topics: Vec<OffsetCommitResponseTopic> = Vec::with_capacity(request.topics.len());
    for wanted in &request.topics {
        let topic = if version >= 10 {
            context.topics.get_by_id(wanted.topic_id)
        } else {
            context.topics.get(&wanted.name)
        };
        let partitions = wanted
            .partitions
            .iter()
            .map(|p| {
                let response = OffsetCommitResponsePartition::default()
                    .with_partition_index(p.partition_index);
                let metadata = p.committed_metadata.as_ref().map_or("", |m| m.as_str());
                let code = match (&group_error, &topic) {
                    (Some(code), _) => *code,
                    (None, None) => ResponseError::UnknownTopicOrPartition.code(),
                    (None, Some(t)) if t.partition(p.partition_index).is_none() => {
                        ResponseError::UnknownTopicOrPartition.code()
                    }
                    _ if metadata.len() > MAX_METADATA_BYTES => {
                        ResponseError::OffsetMetadataTooLarge.code()
                    }
                    (None, Some(t)) => {
                        let value = OffsetCommitValue {
                            offset: p.committed_offset,
                            leader_epoch: p.committed_leader_epoch,
                            metadata: metadata.to_string(),
                            commit_timestamp: now,
                        };
                        entries.push((t.name.clone(), p.partition_index, value));
                        0
                    }
                };
                response.with_error_code(code)
            })
            .collect();
        topics.push(
            OffsetCommitResponseTopic::default()
                .with_name(wanted.name.clone())
                .with_topic_id(wanted.topic_id)
                .with_partitions(partitions),
        );
    }
    if let Err(e) = context.coordinator.commit(&group, entries) {
        tracing::warn!(error = %e, "offset commit failed");
        let code = append_error_code(&e.source);
        for topic in &mut topics {
            for partition in &mut topic.partitions {
                if partition.error_code == 0 {
                    partition.error_code = code;
                }
            }
        }
    }
    OffsetCommitResponse::default().with_topics(topics)
}
