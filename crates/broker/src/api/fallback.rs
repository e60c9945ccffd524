//! The answer sent when a handler's response cannot be encoded at the request's version — a
//! bug, which `tests/every_version.rs` exists to catch. Rather than closing the connection
//! (which clients take for a network fault and retry forever), the client gets an empty
//! response of the same API, carrying UNKNOWN_SERVER_ERROR where the response has a top-level
//! error code.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::*;

/// An empty response for `api`; with `with_error`, UNKNOWN_SERVER_ERROR in its top-level
/// error code when it has one. `None` for APIs this broker does not serve.
pub fn response(api: ApiKey, with_error: bool) -> Option<ResponseKind> {
    let code = if with_error {
        ResponseError::UnknownServerError.code()
    } else {
        0
    };
    macro_rules! empty {
        ($kind:ident, $response:ident) => {
            ResponseKind::$kind($response::default())
        };
        ($kind:ident, $response:ident, error) => {
            ResponseKind::$kind($response::default().with_error_code(code))
        };
    }
    Some(match api {
        ApiKey::Produce => empty!(Produce, ProduceResponse),
        ApiKey::Fetch => empty!(Fetch, FetchResponse, error),
        ApiKey::ListOffsets => empty!(ListOffsets, ListOffsetsResponse),
        ApiKey::Metadata => empty!(Metadata, MetadataResponse),
        ApiKey::OffsetCommit => empty!(OffsetCommit, OffsetCommitResponse),
        ApiKey::OffsetFetch => empty!(OffsetFetch, OffsetFetchResponse, error),
        ApiKey::FindCoordinator => empty!(FindCoordinator, FindCoordinatorResponse, error),
        ApiKey::JoinGroup => empty!(JoinGroup, JoinGroupResponse, error),
        ApiKey::Heartbeat => empty!(Heartbeat, HeartbeatResponse, error),
        ApiKey::LeaveGroup => empty!(LeaveGroup, LeaveGroupResponse, error),
        ApiKey::SyncGroup => empty!(SyncGroup, SyncGroupResponse, error),
        ApiKey::DescribeGroups => empty!(DescribeGroups, DescribeGroupsResponse),
        ApiKey::ListGroups => empty!(ListGroups, ListGroupsResponse, error),
        ApiKey::ApiVersions => empty!(ApiVersions, ApiVersionsResponse, error),
        ApiKey::CreateTopics => empty!(CreateTopics, CreateTopicsResponse),
        ApiKey::DeleteTopics => empty!(DeleteTopics, DeleteTopicsResponse),
        ApiKey::DeleteRecords => empty!(DeleteRecords, DeleteRecordsResponse),
        ApiKey::InitProducerId => empty!(InitProducerId, InitProducerIdResponse, error),
        ApiKey::DescribeConfigs => empty!(DescribeConfigs, DescribeConfigsResponse),
        ApiKey::AlterConfigs => empty!(AlterConfigs, AlterConfigsResponse),
        ApiKey::IncrementalAlterConfigs => {
            empty!(IncrementalAlterConfigs, IncrementalAlterConfigsResponse)
        }
        ApiKey::CreatePartitions => empty!(CreatePartitions, CreatePartitionsResponse),
        ApiKey::DescribeCluster => empty!(DescribeCluster, DescribeClusterResponse, error),
        ApiKey::DescribeLogDirs => empty!(DescribeLogDirs, DescribeLogDirsResponse, error),
        ApiKey::DeleteGroups => empty!(DeleteGroups, DeleteGroupsResponse),
        ApiKey::OffsetDelete => empty!(OffsetDelete, OffsetDeleteResponse, error),
        ApiKey::ConsumerGroupHeartbeat => {
            empty!(
                ConsumerGroupHeartbeat,
                ConsumerGroupHeartbeatResponse,
                error
            )
        }
        ApiKey::ConsumerGroupDescribe => {
            empty!(ConsumerGroupDescribe, ConsumerGroupDescribeResponse)
        }
        ApiKey::ElectLeaders => empty!(ElectLeaders, ElectLeadersResponse, error),
        ApiKey::AlterReplicaLogDirs => empty!(AlterReplicaLogDirs, AlterReplicaLogDirsResponse),
        ApiKey::DescribeQuorum => empty!(DescribeQuorum, DescribeQuorumResponse, error),
        ApiKey::AlterPartitionReassignments => {
            empty!(
                AlterPartitionReassignments,
                AlterPartitionReassignmentsResponse,
                error
            )
        }
        ApiKey::ListPartitionReassignments => {
            empty!(
                ListPartitionReassignments,
                ListPartitionReassignmentsResponse,
                error
            )
        }
        ApiKey::DescribeTopicPartitions => {
            empty!(DescribeTopicPartitions, DescribeTopicPartitionsResponse)
        }
        ApiKey::DescribeAcls => empty!(DescribeAcls, DescribeAclsResponse, error),
        ApiKey::CreateAcls => empty!(CreateAcls, CreateAclsResponse),
        ApiKey::DeleteAcls => empty!(DeleteAcls, DeleteAclsResponse),
        ApiKey::ShareGroupHeartbeat => {
            empty!(ShareGroupHeartbeat, ShareGroupHeartbeatResponse, error)
        }
        _ => return None,
    })
}
