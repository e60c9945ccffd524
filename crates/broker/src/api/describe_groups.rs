//! ListGroups (with the state and type filters) and DescribeGroups (members, assignments,
//! protocol). Groups known only through committed offsets are listed as Empty.

use std::collections::BTreeMap;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::{
    DescribeGroupsRequest, DescribeGroupsResponse, GroupId, ListGroupsRequest, ListGroupsResponse,
};

use super::str_bytes;
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
    let groups = all
        .into_iter()
        .filter(|(_, (state, _))| {
            request.states_filter.is_empty()
                || request
                    .states_filter
                    .iter()
                    .any(|s| s.as_str().eq_ignore_ascii_case(state))
        })
        .filter(|_| {
            request.types_filter.is_empty()
                || request
                    .types_filter
                    .iter()
                    .any(|t| t.as_str().eq_ignore_ascii_case("classic"))
        })
        .map(|(group, (state, protocol_type))| {
            ListedGroup::default()
                .with_group_id(GroupId(str_bytes(group)))
                .with_protocol_type(str_bytes(protocol_type))
                .with_group_state(str_bytes(state))
                .with_group_type(str_bytes("classic"))
        })
        .collect();
    ListGroupsResponse::default().with_groups(groups)
}

/// Handles a DescribeGroups request of any supported version.
pub fn describe(context: &BrokerContext, request: DescribeGroupsRequest) -> DescribeGroupsResponse {
    let groups = request
        .groups
        .into_iter()
        .map(|group_id| {
            let described = DescribedGroup::default().with_group_id(group_id.clone());
            if group_id.is_empty() {
                return described.with_error_code(ResponseError::InvalidGroupId.code());
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
                // Kafka describes unknown groups as Dead, without an error.
                None => described.with_group_state(str_bytes("Dead")),
            }
        })
        .collect();
    DescribeGroupsResponse::default().with_groups(groups)
}
