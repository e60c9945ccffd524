//! DescribeQuorum: the KRaft metadata quorum of a one-node cluster is this node, leading
//! `__cluster_metadata` partition 0 with itself as the only voter, caught up to the metadata
//! log's end.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::describe_quorum_response::{
    Listener, Node, PartitionData, ReplicaState, TopicData,
};
use kafka_protocol::messages::{BrokerId, DescribeQuorumRequest, DescribeQuorumResponse};

use super::str_bytes;
use crate::server::BrokerContext;

/// Kafka's metadata topic, the only one DescribeQuorum describes.
const METADATA_TOPIC: &str = "__cluster_metadata";

/// Handles a DescribeQuorum request of any supported version.
pub fn handle(
    context: &BrokerContext,
    request: DescribeQuorumRequest,
    version: i16,
) -> DescribeQuorumResponse {
    let node = BrokerId(context.config.node_id);
    let end = context.topics.metadata_end_offset();
    let now = crate::now_ms();
    let voter = ReplicaState::default()
        .with_replica_id(node)
        .with_log_end_offset(end);
    // The timestamps exist from v1.
    let voter = if version >= 1 {
        voter
            .with_last_fetch_timestamp(now)
            .with_last_caught_up_timestamp(now)
    } else {
        voter
    };
    let topics = request
        .topics
        .into_iter()
        .map(|topic| {
            let partitions = topic
                .partitions
                .iter()
                .map(|p| {
                    let data = PartitionData::default().with_partition_index(p.partition_index);
                    if topic.topic_name.as_str() != METADATA_TOPIC || p.partition_index != 0 {
                        let data =
                            data.with_error_code(ResponseError::UnknownTopicOrPartition.code());
                        return if version >= 2 {
                            data.with_error_message(Some(str_bytes(
                                "the quorum describes __cluster_metadata partition 0 only",
                            )))
                        } else {
                            data
                        };
                    }
                    data.with_leader_id(node)
                        .with_leader_epoch(1)
                        .with_high_watermark(end)
                        .with_current_voters(vec![voter.clone()])
                })
                .collect();
            TopicData::default()
                .with_topic_name(topic.topic_name)
                .with_partitions(partitions)
        })
        .collect();
    let response = DescribeQuorumResponse::default().with_topics(topics);
    if version < 2 {
        return response;
    }
    let (host, port) = &context.advertised;
    response.with_nodes(vec![Node::default().with_node_id(node).with_listeners(
        vec![
            Listener::default()
                .with_name(str_bytes("PLAINTEXT"))
                .with_host(str_bytes(host.clone()))
                .with_port(*port),
        ],
    )])
}
