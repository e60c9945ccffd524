//! Replica management on one node: ElectLeaders, AlterPartitionReassignments,
//! ListPartitionReassignments and AlterReplicaLogDirs. Every partition has one replica, on this
//! broker, in its one log directory, so there is never anything to move or elect; each request
//! gets the per-partition answers a one-broker Kafka gives when nothing needs doing.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::alter_partition_reassignments_response::{
    ReassignablePartitionResponse, ReassignableTopicResponse,
};
use kafka_protocol::messages::alter_replica_log_dirs_response::{
    AlterReplicaLogDirPartitionResult, AlterReplicaLogDirTopicResult,
};
use kafka_protocol::messages::elect_leaders_response::{PartitionResult, ReplicaElectionResult};
use kafka_protocol::messages::{
    AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse,
    AlterReplicaLogDirsRequest, AlterReplicaLogDirsResponse, ElectLeadersRequest,
    ElectLeadersResponse, ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse,
    TopicName,
};

use super::str_bytes;
use crate::server::BrokerContext;

fn partition_exists(context: &BrokerContext, topic: &str, partition: i32) -> bool {
    context
        .topics
        .get(topic)
        .is_some_and(|t| t.partition(partition).is_some())
}

/// ElectLeaders: the only replica already leads. Named partitions answer
/// ELECTION_NOT_NEEDED (UNKNOWN_TOPIC_OR_PARTITION when they do not exist); a request for all
/// partitions answers with none, as Kafka leaves out partitions that need no election.
pub fn elect_leaders(
    context: &BrokerContext,
    request: ElectLeadersRequest,
) -> ElectLeadersResponse {
    let results = request
        .topic_partitions
        .unwrap_or_default()
        .into_iter()
        .map(|wanted| {
            let partition_result = wanted
                .partitions
                .iter()
                .map(|&p| {
                    let (code, message) = if partition_exists(context, &wanted.topic, p) {
                        (
                            ResponseError::ElectionNotNeeded,
                            "Leader election not needed for topic partition.",
                        )
                    } else {
                        (
                            ResponseError::UnknownTopicOrPartition,
                            "The partition does not exist.",
                        )
                    };
                    PartitionResult::default()
                        .with_partition_id(p)
                        .with_error_code(code.code())
                        .with_error_message(Some(str_bytes(message)))
                })
                .collect();
            ReplicaElectionResult::default()
                .with_topic(wanted.topic)
                .with_partition_result(partition_result)
        })
        .collect();
    ElectLeadersResponse::default().with_replica_election_results(results)
}

/// AlterPartitionReassignments: moving a partition to this broker (where it is) does nothing
/// and succeeds; any other broker does not exist (INVALID_REPLICA_ASSIGNMENT); cancelling
/// (null replicas) finds nothing in progress (NO_REASSIGNMENT_IN_PROGRESS).
pub fn alter_partition_reassignments(
    context: &BrokerContext,
    request: AlterPartitionReassignmentsRequest,
) -> AlterPartitionReassignmentsResponse {
    let node = context.config.node_id;
    let responses = request
        .topics
        .into_iter()
        .map(|topic| {
            let partitions = topic
                .partitions
                .iter()
                .map(|p| {
                    let response =
                        ReassignablePartitionResponse::default().with_partition_index(p.partition_index);
                    let refuse = |code: ResponseError, message: String| {
                        response
                            .clone()
                            .with_error_code(code.code())
                            .with_error_message(Some(str_bytes(message)))
                    };
                    if !partition_exists(context, &topic.name, p.partition_index) {
                        return refuse(
                            ResponseError::UnknownTopicOrPartition,
                            "The partition does not exist.".to_string(),
                        );
                    }
                    match &p.replicas {
                        None => refuse(
                            ResponseError::NoReassignmentInProgress,
                            "No ongoing reassignment for this partition.".to_string(),
                        ),
                        Some(replicas) if replicas.iter().all(|b| b.0 == node) && replicas.len() == 1 => {
                            response
                        }
                        Some(replicas) => refuse(
                            ResponseError::InvalidReplicaAssignment,
                            format!(
                                "The manual partition assignment {:?} includes a broker that is not \
                                 registered: only broker {node} exists.",
                                replicas.iter().map(|b| b.0).collect::<Vec<_>>()
                            ),
                        ),
                    }
                })
                .collect();
            ReassignableTopicResponse::default()
                .with_name(topic.name)
                .with_partitions(partitions)
        })
        .collect();
    AlterPartitionReassignmentsResponse::default()
        .with_allow_replication_factor_change(request.allow_replication_factor_change)
        .with_responses(responses)
}

/// ListPartitionReassignments: none is ever in progress.
pub fn list_partition_reassignments(
    _context: &BrokerContext,
    _request: ListPartitionReassignmentsRequest,
) -> ListPartitionReassignmentsResponse {
    ListPartitionReassignmentsResponse::default()
}

/// AlterReplicaLogDirs: there is one log directory. Moving a partition into it succeeds (it is
/// there); any other path is LOG_DIR_NOT_FOUND; a partition this broker does not host is
/// REPLICA_NOT_AVAILABLE.
pub fn alter_replica_log_dirs(
    context: &BrokerContext,
    request: AlterReplicaLogDirsRequest,
) -> AlterReplicaLogDirsResponse {
    let ours = std::fs::canonicalize(&context.config.data_dir)
        .unwrap_or_else(|_| context.config.data_dir.clone());
    let mut results: Vec<AlterReplicaLogDirTopicResult> = Vec::new();
    for dir in request.dirs {
        let path = std::path::PathBuf::from(dir.path.as_str());
        let known = std::fs::canonicalize(&path).unwrap_or(path) == ours;
        for topic in dir.topics {
            let partitions = topic.partitions.iter().map(|&p| {
                let code = if !known {
                    ResponseError::LogDirNotFound.code()
                } else if !partition_exists(context, &topic.name, p) {
                    ResponseError::ReplicaNotAvailable.code()
                } else {
                    0
                };
                AlterReplicaLogDirPartitionResult::default()
                    .with_partition_index(p)
                    .with_error_code(code)
            });
            match results.iter_mut().find(|r| r.topic_name == topic.name) {
                Some(result) => result.partitions.extend(partitions),
                None => results.push(
                    AlterReplicaLogDirTopicResult::default()
                        .with_topic_name(TopicName(topic.name.0.clone()))
                        .with_partitions(partitions.collect()),
                ),
            }
        }
    }
    AlterReplicaLogDirsResponse::default().with_results(results)
}
