//! ConsumerGroupHeartbeat (KIP-848): a thin adapter from the wire message to
//! [`crate::coordinator::consumer_groups::ConsumerGroups`].

use std::net::SocketAddr;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::consumer_group_heartbeat_response::{Assignment, TopicPartitions};
use kafka_protocol::messages::{
    ApiKey, ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse, RequestHeader,
};

use super::str_bytes;
use crate::coordinator::assignors;
use crate::coordinator::consumer_groups::{Heartbeat, TopicInfo};
use crate::refusals::Missing;
use crate::server::BrokerContext;

/// The cluster's topics as the consumer-group coordinator sees them.
pub fn topic_infos(context: &BrokerContext) -> Vec<TopicInfo> {
    context
        .topics
        .list()
        .iter()
        .map(|t| TopicInfo {
            name: t.name.clone(),
            id: t.id,
            partitions: t.partitions.len() as i32,
            internal: t.is_internal(),
        })
        .collect()
}

/// Handles a ConsumerGroupHeartbeat request.
pub fn handle(
    context: &BrokerContext,
    peer: SocketAddr,
    header: &RequestHeader,
    request: ConsumerGroupHeartbeatRequest,
) -> ConsumerGroupHeartbeatResponse {
    let group = request.group_id.to_string();
    if context.coordinator.membership.is_active(&group) {
        // KIP-848's online upgrade is not built: answered as Kafka answers it with
        // group.consumer.migration.policy=disabled.
        context.refusals.refuse(
            Missing::OnlineUpgrade,
            ApiKey::ConsumerGroupHeartbeat,
            header,
        );
        return ConsumerGroupHeartbeatResponse::default()
            .with_error_code(ResponseError::GroupIdNotFound.code())
            .with_error_message(Some(str_bytes(format!(
                "Cannot upgrade classic group {group} to consumer group because online upgrade \
                 is disabled."
            ))));
    }
    // An empty classic group becomes a consumer group.
    let _ = context.coordinator.membership.remove_if_empty(&group);
    let owned = request.topic_partitions.map(|topics| {
        let mut owned = assignors::Assignment::new();
        for t in topics {
            owned.entry(t.topic_id).or_default().extend(t.partitions);
        }
        owned
    });
    let heartbeat = Heartbeat {
        member_id: request.member_id.to_string(),
        member_epoch: request.member_epoch,
        instance_id: request.instance_id.map(|s| s.to_string()),
        rack_id: request.rack_id.map(|s| s.to_string()),
        rebalance_timeout_ms: request.rebalance_timeout_ms,
        subscribed_topic_names: request
            .subscribed_topic_names
            .map(|names| names.into_iter().map(|n| n.to_string()).collect()),
        subscribed_topic_regex: request.subscribed_topic_regex.map(|s| s.to_string()),
        server_assignor: request.server_assignor.map(|s| s.to_string()),
        owned,
        client_id: header
            .client_id
            .as_ref()
            .map_or_else(String::new, |c| c.to_string()),
        client_host: format!("/{}", peer.ip()),
    };
    let result =
        context
            .coordinator
            .consumer_groups
            .heartbeat(&group, heartbeat, &topic_infos(context));
    let assignment = result.assignment.map(|a| {
        Assignment::default().with_topic_partitions(
            a.into_iter()
                .map(|(id, ps)| {
                    TopicPartitions::default()
                        .with_topic_id(id)
                        .with_partitions(ps.into_iter().collect())
                })
                .collect(),
        )
    });
    ConsumerGroupHeartbeatResponse::default()
        .with_error_code(result.error_code)
        .with_error_message(result.error_message.map(str_bytes))
        .with_member_id(result.member_id.map(str_bytes))
        .with_member_epoch(result.member_epoch)
        .with_heartbeat_interval_ms(result.heartbeat_interval_ms)
        .with_assignment(assignment)
}
