//! One module per Kafka API. `dispatch` routes a decoded request to its handler; `SUPPORTED`
//! and [`versions`] are what ApiVersions advertises — exactly the APIs implemented here, in
//! every version the kafka-protocol crate can decode (`tests/every_version.rs` runs them all).

pub mod acls;
pub mod alter_configs;
pub mod api_versions;
pub mod authorized_operations;
pub mod consumer_group_describe;
pub mod consumer_group_heartbeat;
pub mod create_partitions;
pub mod create_topics;
pub mod delete_groups;
pub mod delete_records;
pub mod delete_topics;
pub mod describe_cluster;
pub mod describe_configs;
pub mod describe_groups;
pub mod describe_log_dirs;
pub mod describe_quorum;
pub mod describe_topic_partitions;
pub mod fallback;
pub mod fetch;
pub mod find_coordinator;
pub mod groups;
pub mod incremental_alter_configs;
pub mod init_producer_id;
pub mod list_offsets;
pub mod metadata;
pub mod offset_commit;
pub mod offset_fetch;
pub mod produce;
pub mod replicas;
pub mod share_groups;
pub mod transactions;

use kafka_protocol::messages::{ApiKey, RequestHeader, RequestKind, ResponseKind};
use kafka_protocol::protocol::StrBytes;

use crate::server::BrokerContext;

/// The APIs this broker implements.
pub const SUPPORTED: &[ApiKey] = &[
    ApiKey::Produce,
    ApiKey::Fetch,
    ApiKey::ListOffsets,
    ApiKey::Metadata,
    ApiKey::ApiVersions,
    ApiKey::CreateTopics,
    ApiKey::DeleteTopics,
    ApiKey::InitProducerId,
    ApiKey::DeleteRecords,
    ApiKey::DescribeConfigs,
    ApiKey::AlterConfigs,
    ApiKey::IncrementalAlterConfigs,
    ApiKey::CreatePartitions,
    ApiKey::DescribeCluster,
    ApiKey::DescribeLogDirs,
    ApiKey::FindCoordinator,
    ApiKey::OffsetCommit,
    ApiKey::OffsetFetch,
    ApiKey::JoinGroup,
    ApiKey::SyncGroup,
    ApiKey::Heartbeat,
    ApiKey::LeaveGroup,
    ApiKey::ListGroups,
    ApiKey::DescribeGroups,
    ApiKey::DeleteGroups,
    ApiKey::OffsetDelete,
    ApiKey::ConsumerGroupHeartbeat,
    ApiKey::ConsumerGroupDescribe,
    ApiKey::ElectLeaders,
    ApiKey::AlterReplicaLogDirs,
    ApiKey::DescribeQuorum,
    ApiKey::AlterPartitionReassignments,
    ApiKey::ListPartitionReassignments,
    ApiKey::DescribeTopicPartitions,
    ApiKey::AddPartitionsToTxn,
    ApiKey::AddOffsetsToTxn,
    ApiKey::EndTxn,
    ApiKey::TxnOffsetCommit,
    ApiKey::DescribeTransactions,
    ApiKey::ListTransactions,
    ApiKey::DescribeProducers,
    // No authorizer: answered SECURITY_DISABLED, as Kafka without one answers.
    ApiKey::DescribeAcls,
    ApiKey::CreateAcls,
    ApiKey::DeleteAcls,
    // Refused with UNSUPPORTED_VERSION and a message, as Kafka does while share groups are
    // disabled: a share consumer that sees no ShareGroupHeartbeat waits silently forever.
    ApiKey::ShareGroupHeartbeat,
];

/// Newest versions that Kafka 4.1 marks unstable (`latestVersionUnstable`): `valid_versions`
/// lists them, but kafka-protocol's request types cannot decode them, so they are not served.
const UNSTABLE_FROM: &[(ApiKey, i16)] = &[
    (ApiKey::OffsetCommit, 10),
    (ApiKey::OffsetFetch, 10),
    (ApiKey::InitProducerId, 6),
];

/// The versions of `api` this broker serves (and ApiVersions advertises), or `None`.
pub fn versions(api: ApiKey) -> Option<std::ops::RangeInclusive<i16>> {
    if !SUPPORTED.contains(&api) {
        return None;
    }
    let range = api.valid_versions();
    let max = UNSTABLE_FROM
        .iter()
        .find(|(key, _)| *key == api)
        .map_or(range.max, |(_, unstable)| unstable - 1);
    Some(range.min..=max)
}

/// Whether `version` of `api` is served.
pub fn supports(api: ApiKey, version: i16) -> bool {
    versions(api).is_some_and(|range| range.contains(&version))
}

/// Runs a request. `Ok(None)`: no response is sent (acks=0 produce).
pub async fn dispatch(
    context: &BrokerContext,
    peer: std::net::SocketAddr,
    header: &RequestHeader,
    request: RequestKind,
) -> Result<Option<ResponseKind>, String> {
    let version = header.request_api_version;
    Ok(Some(match request {
        RequestKind::ApiVersions(_) => ResponseKind::ApiVersions(api_versions::handle()),
        RequestKind::Metadata(r) => ResponseKind::Metadata(metadata::handle(context, r, version)),
        RequestKind::Produce(r) => match produce::handle(context, r, version).await {
            Some(response) => ResponseKind::Produce(response),
            None => return Ok(None),
        },
        RequestKind::Fetch(r) => ResponseKind::Fetch(fetch::handle(context, r, version).await),
        RequestKind::ListOffsets(r) => {
            ResponseKind::ListOffsets(list_offsets::handle(context, r, version))
        }
        RequestKind::CreateTopics(r) => {
            ResponseKind::CreateTopics(create_topics::handle(context, r))
        }
        RequestKind::DeleteTopics(r) => {
            ResponseKind::DeleteTopics(delete_topics::handle(context, r, version))
        }
        RequestKind::InitProducerId(r) => {
            ResponseKind::InitProducerId(init_producer_id::handle(context, r).await)
        }
        RequestKind::DeleteRecords(r) => {
            ResponseKind::DeleteRecords(delete_records::handle(context, r))
        }
        RequestKind::DescribeConfigs(r) => {
            ResponseKind::DescribeConfigs(describe_configs::handle(context, header, r))
        }
        RequestKind::AlterConfigs(r) => {
            ResponseKind::AlterConfigs(alter_configs::handle(context, header, r))
        }
        RequestKind::IncrementalAlterConfigs(r) => ResponseKind::IncrementalAlterConfigs(
            incremental_alter_configs::handle(context, header, r),
        ),
        RequestKind::CreatePartitions(r) => {
            ResponseKind::CreatePartitions(create_partitions::handle(context, r))
        }
        RequestKind::DescribeCluster(r) => {
            ResponseKind::DescribeCluster(describe_cluster::handle(context, r))
        }
        RequestKind::DescribeLogDirs(r) => {
            ResponseKind::DescribeLogDirs(describe_log_dirs::handle(context, r, version))
        }
        RequestKind::FindCoordinator(r) => {
            ResponseKind::FindCoordinator(find_coordinator::handle(context, r, version))
        }
        RequestKind::OffsetCommit(r) => {
            ResponseKind::OffsetCommit(offset_commit::handle(context, r, version))
        }
        RequestKind::OffsetFetch(r) => {
            ResponseKind::OffsetFetch(offset_fetch::handle(context, r, version))
        }
        RequestKind::JoinGroup(r) => {
            ResponseKind::JoinGroup(groups::join(context, peer, header, r, version).await)
        }
        RequestKind::SyncGroup(r) => ResponseKind::SyncGroup(groups::sync(context, r).await),
        RequestKind::Heartbeat(r) => ResponseKind::Heartbeat(groups::heartbeat(context, r)),
        RequestKind::LeaveGroup(r) => ResponseKind::LeaveGroup(groups::leave(context, r, version)),
        RequestKind::ListGroups(r) => ResponseKind::ListGroups(describe_groups::list(context, r)),
        RequestKind::DescribeGroups(r) => {
            ResponseKind::DescribeGroups(describe_groups::describe(context, r, version))
        }
        RequestKind::DeleteGroups(r) => {
            ResponseKind::DeleteGroups(delete_groups::delete_groups(context, r))
        }
        RequestKind::OffsetDelete(r) => {
            ResponseKind::OffsetDelete(delete_groups::offset_delete(context, r))
        }
        RequestKind::ConsumerGroupHeartbeat(r) => ResponseKind::ConsumerGroupHeartbeat(
            consumer_group_heartbeat::handle(context, peer, header, r),
        ),
        RequestKind::ConsumerGroupDescribe(r) => {
            ResponseKind::ConsumerGroupDescribe(consumer_group_describe::handle(context, r))
        }
        RequestKind::ElectLeaders(r) => {
            ResponseKind::ElectLeaders(replicas::elect_leaders(context, r))
        }
        RequestKind::AlterReplicaLogDirs(r) => {
            ResponseKind::AlterReplicaLogDirs(replicas::alter_replica_log_dirs(context, r))
        }
        RequestKind::AlterPartitionReassignments(r) => ResponseKind::AlterPartitionReassignments(
            replicas::alter_partition_reassignments(context, r),
        ),
        RequestKind::ListPartitionReassignments(r) => ResponseKind::ListPartitionReassignments(
            replicas::list_partition_reassignments(context, r),
        ),
        RequestKind::DescribeQuorum(r) => {
            ResponseKind::DescribeQuorum(describe_quorum::handle(context, r, version))
        }
        RequestKind::DescribeTopicPartitions(r) => {
            ResponseKind::DescribeTopicPartitions(describe_topic_partitions::handle(context, r))
        }
        RequestKind::AddPartitionsToTxn(r) => {
            ResponseKind::AddPartitionsToTxn(transactions::add_partitions(context, r, version))
        }
        RequestKind::AddOffsetsToTxn(r) => {
            ResponseKind::AddOffsetsToTxn(transactions::add_offsets(context, r))
        }
        RequestKind::EndTxn(r) => ResponseKind::EndTxn(transactions::end_txn(context, r).await),
        RequestKind::TxnOffsetCommit(r) => {
            ResponseKind::TxnOffsetCommit(transactions::txn_offset_commit(context, r))
        }
        RequestKind::DescribeTransactions(r) => {
            ResponseKind::DescribeTransactions(transactions::describe(context, r))
        }
        RequestKind::ListTransactions(r) => {
            ResponseKind::ListTransactions(transactions::list(context, r))
        }
        RequestKind::DescribeProducers(r) => {
            ResponseKind::DescribeProducers(transactions::describe_producers(context, r))
        }
        RequestKind::DescribeAcls(_) => ResponseKind::DescribeAcls(acls::describe(context, header)),
        RequestKind::CreateAcls(r) => ResponseKind::CreateAcls(acls::create(context, header, r)),
        RequestKind::DeleteAcls(r) => ResponseKind::DeleteAcls(acls::delete(context, header, r)),
        RequestKind::ShareGroupHeartbeat(_) => {
            ResponseKind::ShareGroupHeartbeat(share_groups::heartbeat(context, header))
        }
        other => return Err(format!("no handler for {other:?}")),
    }))
}

pub(crate) fn str_bytes(s: impl Into<String>) -> StrBytes {
    StrBytes::from_string(s.into())
}
