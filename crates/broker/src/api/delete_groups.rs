//! DeleteGroups (groups without members: their committed offsets are tombstoned) and
//! OffsetDelete (committed offsets of topics the group's members do not subscribe to).

use kafka_protocol::ResponseError;
use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::offset_delete_response::{
    OffsetDeleteResponsePartition, OffsetDeleteResponseTopic,
};
use kafka_protocol::messages::{
    DeleteGroupsRequest, DeleteGroupsResponse, OffsetDeleteRequest, OffsetDeleteResponse,
};

use crate::errors::append_error_code;
use crate::server::BrokerContext;

/// Handles a DeleteGroups request of any supported version.
pub fn delete_groups(
    context: &BrokerContext,
    request: DeleteGroupsRequest,
) -> DeleteGroupsResponse {
    let coordinator = &context.coordinator;
    let results = request
        .groups_names
        .into_iter()
        .map(|group| {
            let result = DeletableGroupResult::default().with_group_id(group.clone());
            let had_members = match (
                coordinator.membership.remove_if_empty(&group),
                coordinator.consumer_groups.remove_if_empty(&group),
            ) {
                (Err(()), _) | (_, Err(())) => {
                    return result.with_error_code(ResponseError::NonEmptyGroup.code());
                }
                (Ok(classic), Ok(consumer)) => classic || consumer,
            };
            let partitions: Vec<(String, i32)> =
                coordinator.committed(&group).into_keys().collect();
            if !had_members && partitions.is_empty() {
                return result.with_error_code(ResponseError::GroupIdNotFound.code());
            }
            match coordinator.delete_offsets(&group, &partitions) {
                Ok(_) => result,
                Err(e) => result.with_error_code(append_error_code(&e.source)),
            }
        })
        .collect();
    DeleteGroupsResponse::default().with_results(results)
}

/// Handles an OffsetDelete request.
pub fn offset_delete(
    context: &BrokerContext,
    request: OffsetDeleteRequest,
) -> OffsetDeleteResponse {
    let coordinator = &context.coordinator;
    let group = request.group_id.to_string();
    let known = coordinator.membership.describe(&group).is_some()
        || coordinator.consumer_groups.contains(&group)
        || !coordinator.committed(&group).is_empty();
    if !known {
        return OffsetDeleteResponse::default()
            .with_error_code(ResponseError::GroupIdNotFound.code());
    }
    // Offsets of topics the members consume now cannot be deleted; unreadable subscriptions
    // count as consuming everything.
    let subscribed = match coordinator.consumer_groups.subscribed_topics(&group) {
        Some(topics) => Some(topics.into_iter().collect()),
        None => coordinator.membership.subscribed_topics(&group),
    };
    let mut wanted = Vec::new();
    let topics: Vec<OffsetDeleteResponseTopic> = request
        .topics
        .iter()
        .map(|topic| {
            let partitions = topic
                .partitions
                .iter()
                .map(|p| {
                    let in_use = subscribed
                        .as_ref()
                        .is_none_or(|topics| topics.contains(topic.name.as_str()));
                    let code = if in_use {
                        ResponseError::GroupSubscribedToTopic.code()
                    } else {
                        wanted.push((topic.name.to_string(), p.partition_index));
                        0
                    };
                    OffsetDeleteResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(code)
                })
                .collect();
            OffsetDeleteResponseTopic::default()
                .with_name(topic.name.clone())
                .with_partitions(partitions)
        })
        .collect();
    match coordinator.delete_offsets(&group, &wanted) {
        Ok(_) => OffsetDeleteResponse::default().with_topics(topics),
        Err(e) => OffsetDeleteResponse::default().with_error_code(append_error_code(&e.source)),
    }
}
