//! ConsumerGroupDescribe (KIP-848): consumer groups with their epochs, assignor and members'
//! current and target assignments. Classic and unknown groups answer GROUP_ID_NOT_FOUND, which
//! tells admin clients to fall back to DescribeGroups.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::consumer_group_describe_response::{
    Assignment, DescribedGroup, Member, TopicPartitions,
};
use kafka_protocol::messages::{
    ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse, TopicName,
};
use uuid::Uuid;

use super::str_bytes;
use crate::server::BrokerContext;

fn assignment(partitions: Vec<(Uuid, String, Vec<i32>)>) -> Assignment {
    Assignment::default().with_topic_partitions(
        partitions
            .into_iter()
            .map(|(id, name, ps)| {
                TopicPartitions::default()
                    .with_topic_id(id)
                    .with_topic_name(TopicName(str_bytes(name)))
                    .with_partitions(ps)
            })
            .collect(),
    )
}

/// Handles a ConsumerGroupDescribe request.
pub fn handle(
    context: &BrokerContext,
    request: ConsumerGroupDescribeRequest,
) -> ConsumerGroupDescribeResponse {
    // No authorizer: every group operation is allowed.
    let operations = if request.include_authorized_operations {
        super::authorized_operations::GROUP
    } else {
        super::authorized_operations::NOT_REQUESTED
    };
    let groups = request
        .group_ids
        .into_iter()
        .map(|group_id| {
            let described = DescribedGroup::default()
                .with_group_id(group_id.clone())
                .with_authorized_operations(operations);
            if group_id.is_empty() {
                return described.with_error_code(ResponseError::InvalidGroupId.code());
            }
            let Some(group) = context.coordinator.consumer_groups.describe(&group_id) else {
                return described
                    .with_error_code(ResponseError::GroupIdNotFound.code())
                    .with_error_message(Some(str_bytes(format!(
                        "Group {} is not a consumer group.",
                        group_id.as_str()
                    ))));
            };
            let members = group
                .members
                .into_iter()
                .map(|m| {
                    Member::default()
                        .with_member_id(str_bytes(m.member_id))
                        .with_instance_id(m.instance_id.map(str_bytes))
                        .with_rack_id(m.rack_id.map(str_bytes))
                        .with_member_epoch(m.member_epoch)
                        .with_client_id(str_bytes(m.client_id))
                        .with_client_host(str_bytes(m.client_host))
                        .with_subscribed_topic_names(
                            m.subscribed_topic_names
                                .into_iter()
                                .map(|n| TopicName(str_bytes(n)))
                                .collect(),
                        )
                        .with_subscribed_topic_regex(m.subscribed_topic_regex.map(str_bytes))
                        .with_assignment(assignment(m.assignment))
                        .with_target_assignment(assignment(m.target_assignment))
                        // 1: a member speaking the consumer protocol.
                        .with_member_type(1)
                })
                .collect();
            described
                .with_group_state(str_bytes(group.state.name()))
                .with_group_epoch(group.group_epoch)
                .with_assignment_epoch(group.assignment_epoch)
                .with_assignor_name(str_bytes(group.assignor))
                .with_members(members)
        })
        .collect();
    ConsumerGroupDescribeResponse::default().with_groups(groups)
}
