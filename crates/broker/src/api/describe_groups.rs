//! ListGroups (with the state and type filters, classic and KIP-848 consumer groups) and
//! DescribeGroups (members, assignments, protocol). Groups known only through committed
//! offsets are listed as Empty.

use std::collections::BTreeMap;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::{
    DescribeGroupsRequest, DescribeGroupsResponse, GroupId, ListGroupsRequest, ListGroupsResponse,
};

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::consumer_protocol_assignment::TopicPartition;
use kafka_protocol::messages::{
    ConsumerProtocolAssignment, ConsumerProtocolSubscription, TopicName,
};
use kafka_protocol::protocol::Encodable;

use super::str_bytes;
use crate::coordinator::consumer_groups::{ConsumerGroupState, GroupDescription};
use crate::server::BrokerContext;

/// Handles a ListGroups request of any supported version.
pub fn list(context: &BrokerContext, request: ListGroupsRequest) -> ListGroupsResponse {
    let mut all: BTreeMap<String, (String, String)> = context
        .coordinator
        .groups_with_offsets()
        .into_iter()
        .map(|g| (g, ("Empty".to_string(), String::new())))
        .collect();
    for (group, state, protocol_type) in context.coordinator.membership.list() {
        all.insert(group, (state.name().to_string(), protocol_type));
    }
    let consumer_groups: BTreeMap<String, ConsumerGroupState> = context
        .coordinator
        .consumer_groups
        .list()
        .into_iter()
        .collect();
    for (group, state) in &consumer_groups {
        all.insert(group.clone(), (state.name().to_string(), "consumer".into()));
    }
    let group_type = |group: &str| {
        if consumer_groups.contains_key(group) {
            "consumer"
        } else {
            "classic"
        }
    };
    let groups = all
        .into_iter()
        .filter(|(_, (state, _))| {
            request.states_filter.is_empty()
                || request
                    .states_filter
                    .iter()
                    .any(|s| s.as_str().eq_ignore_ascii_case(state))
        })
        .filter(|(group, _)| {
            request.types_filter.is_empty()
                || request
                    .types_filter
                    .iter()
                    .any(|t| t.as_str().eq_ignore_ascii_case(group_type(group)))
        })
        .map(|(group, (state, protocol_type))| {
            let kind = group_type(&group);
            ListedGroup::default()
                .with_group_id(GroupId(str_bytes(group)))
                .with_protocol_type(str_bytes(protocol_type))
                .with_group_state(str_bytes(state))
                .with_group_type(str_bytes(kind))
        })
        .collect();
    ListGroupsResponse::default().with_groups(groups)
}

/// Handles a DescribeGroups request of any supported version.
pub fn describe(
    context: &BrokerContext,
    request: DescribeGroupsRequest,
    version: i16,
) -> DescribeGroupsResponse {
    // No authorizer: every group operation is allowed (the field exists from v3).
    let operations = if version >= 3 && request.include_authorized_operations {
        super::authorized_operations::GROUP
    } else {
        super::authorized_operations::NOT_REQUESTED
    };
    let groups = request
        .groups
        .into_iter()
        .map(|group_id| {
            let described = DescribedGroup::default()
                .with_group_id(group_id.clone())
                .with_authorized_operations(operations);
            if group_id.is_empty() {
                return described.with_error_code(ResponseError::InvalidGroupId.code());
            }
            if let Some(group) = context.coordinator.consumer_groups.describe(&group_id) {
                return describe_consumer_group(described, group);
            }
            match context.coordinator.membership.describe(&group_id) {
                Some(group) => {
                    let members = group
                        .members
                        .into_iter()
                        .map(|m| {
                            DescribedGroupMember::default()
                                .with_member_id(str_bytes(m.member_id))
                                .with_group_instance_id(m.instance_id.map(str_bytes))
                                .with_client_id(str_bytes(m.client_id))
                                .with_client_host(str_bytes(m.client_host))
                                .with_member_metadata(m.metadata)
                                .with_member_assignment(m.assignment)
                        })
                        .collect();
                    described
                        .with_group_state(str_bytes(group.state.name()))
                        .with_protocol_type(str_bytes(group.protocol_type))
                        .with_protocol_data(str_bytes(group.protocol_name))
                        .with_members(members)
                }
                // A group that only committed offsets is Empty, as in Kafka; unknown
                // groups are Dead, without an error.
                None if !context.coordinator.committed(&group_id).is_empty() => {
                    described.with_group_state(str_bytes("Empty"))
                }
                None => described.with_group_state(str_bytes("Dead")),
            }
        })
        .collect();
    DescribeGroupsResponse::default().with_groups(groups)
}

/// A KIP-848 group as DescribeGroups shows it (as Kafka does, so that older tools still see
/// its members): protocol type "consumer", the assignor as protocol, and each member's
/// subscription and assignment in the classic ConsumerProtocol encodings.
fn describe_consumer_group(described: DescribedGroup, group: GroupDescription) -> DescribedGroup {
    let members = group
        .members
        .into_iter()
        .map(|m| {
            let subscription = ConsumerProtocolSubscription::default().with_topics(
                m.subscribed_topic_names
                    .into_iter()
                    .map(str_bytes)
                    .collect(),
            );
            let assignment = ConsumerProtocolAssignment::default().with_assigned_partitions(
                m.assignment
                    .into_iter()
                    .map(|(_, name, partitions)| {
                        TopicPartition::default()
                            .with_topic(TopicName(str_bytes(name)))
                            .with_partitions(partitions)
                    })
                    .collect(),
            );
            DescribedGroupMember::default()
                .with_member_id(str_bytes(m.member_id))
                .with_group_instance_id(m.instance_id.map(str_bytes))
                .with_client_id(str_bytes(m.client_id))
                .with_client_host(str_bytes(m.client_host))
                .with_member_metadata(versioned(&subscription))
                .with_member_assignment(versioned(&assignment))
        })
        .collect();
    described
        .with_group_state(str_bytes(group.state.name()))
        .with_protocol_type(str_bytes("consumer"))
        .with_protocol_data(str_bytes(group.assignor))
        .with_members(members)
}

/// Version 0 of a ConsumerProtocol message, with its leading version number.
fn versioned(message: &impl Encodable) -> Bytes {
    let mut buf = BytesMut::new();
    buf.put_i16(0);
    message
        .encode(&mut buf, 0)
        .expect("version 0 encodes every field we set");
    buf.freeze()
}
