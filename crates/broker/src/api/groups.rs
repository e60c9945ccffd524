//! JoinGroup, SyncGroup, Heartbeat and LeaveGroup: thin adapters from the wire messages to
//! [`crate::coordinator::membership::Membership`].

use std::net::SocketAddr;
use std::time::Duration;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::{
    HeartbeatRequest, HeartbeatResponse, JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest,
    LeaveGroupResponse, RequestHeader, SyncGroupRequest, SyncGroupResponse,
};

use super::str_bytes;
use crate::coordinator::membership::JoinRequest;
use crate::server::BrokerContext;

/// Handles a JoinGroup request; waits for the rebalance's join phase.
pub async fn join(
    context: &BrokerContext,
    peer: SocketAddr,
    header: &RequestHeader,
    request: JoinGroupRequest,
    version: i16,
) -> JoinGroupResponse {
    let consumer_groups = &context.coordinator.consumer_groups;
    if consumer_groups.is_active(&request.group_id) {
        // A KIP-848 group with members: classic members cannot join it.
        return JoinGroupResponse::default()
            .with_error_code(ResponseError::InconsistentGroupProtocol.code())
            .with_generation_id(-1)
            .with_member_id(request.member_id);
    }
    let _ = consumer_groups.remove_if_empty(&request.group_id);
    let millis = |ms: i32| Duration::from_millis(ms.max(0) as u64);
    let join = JoinRequest {
        member_id: request.member_id.to_string(),
        instance_id: request.group_instance_id.as_ref().map(|s| s.to_string()),
        client_id: header
            .client_id
            .as_ref()
            .map_or_else(String::new, |c| c.to_string()),
        client_host: format!("/{}", peer.ip()),
        session_timeout: millis(request.session_timeout_ms),
        // v0 has no rebalance timeout: Kafka uses the session timeout.
        rebalance_timeout: millis(if version == 0 {
            request.session_timeout_ms
        } else {
            request.rebalance_timeout_ms
        }),
        protocol_type: request.protocol_type.to_string(),
        protocols: request
            .protocols
            .iter()
            .map(|p| (p.name.to_string(), p.metadata.clone()))
            .collect(),
        requires_known_member_id: version >= 4,
    };
    let result = context
        .coordinator
        .membership
        .join(&request.group_id, join)
        .await;
    let members = result
        .members
        .into_iter()
        .map(|(id, instance, metadata)| {
            JoinGroupResponseMember::default()
                .with_member_id(str_bytes(id))
                .with_group_instance_id(instance.map(str_bytes))
                .with_metadata(metadata)
        })
        .collect();
    JoinGroupResponse::default()
        .with_error_code(result.error_code)
        .with_generation_id(result.generation)
        .with_protocol_type(result.protocol_type.map(str_bytes))
        .with_protocol_name(result.protocol_name.map(str_bytes))
        .with_leader(str_bytes(result.leader))
        .with_member_id(str_bytes(result.member_id))
        .with_members(members)
}

/// Handles a SyncGroup request; followers wait for the leader's assignments.
pub async fn sync(context: &BrokerContext, request: SyncGroupRequest) -> SyncGroupResponse {
    // Only the leader sends assignments; its successful sync completes the rebalance.
    let from_leader = !request.assignments.is_empty();
    let assignments = request
        .assignments
        .into_iter()
        .map(|a| (a.member_id.to_string(), a.assignment))
        .collect();
    let result = context
        .coordinator
        .membership
        .sync(
            &request.group_id,
            request.generation_id,
            &request.member_id,
            request.group_instance_id.as_deref(),
            assignments,
        )
        .await;
    if from_leader && result.error_code == 0 {
        context.coordinator.store_group(&request.group_id);
    }
    SyncGroupResponse::default()
        .with_error_code(result.error_code)
        .with_protocol_type(result.protocol_type.map(str_bytes))
        .with_protocol_name(result.protocol_name.map(str_bytes))
        .with_assignment(result.assignment)
}

/// Handles a Heartbeat request.
pub fn heartbeat(context: &BrokerContext, request: HeartbeatRequest) -> HeartbeatResponse {
    let code = context.coordinator.membership.heartbeat(
        &request.group_id,
        request.generation_id,
        &request.member_id,
        request.group_instance_id.as_deref(),
    );
    HeartbeatResponse::default().with_error_code(code)
}

/// Handles a LeaveGroup request (one member before v3, a batch of members from v3).
pub fn leave(
    context: &BrokerContext,
    request: LeaveGroupRequest,
    version: i16,
) -> LeaveGroupResponse {
    let members: Vec<(String, Option<String>)> = if version >= 3 {
        request
            .members
            .iter()
            .map(|m| {
                (
                    m.member_id.to_string(),
                    m.group_instance_id.as_ref().map(|s| s.to_string()),
                )
            })
            .collect()
    } else {
        vec![(request.member_id.to_string(), None)]
    };
    let codes = context
        .coordinator
        .membership
        .leave(&request.group_id, &members);
    if !context.coordinator.membership.is_active(&request.group_id) {
        context.coordinator.store_group(&request.group_id);
    }
    if version < 3 {
        return LeaveGroupResponse::default().with_error_code(codes[0]);
    }
    let responses = members
        .into_iter()
        .zip(codes)
        .map(|((id, instance), code)| {
            MemberResponse::default()
                .with_member_id(str_bytes(id))
                .with_group_instance_id(instance.map(str_bytes))
                .with_error_code(code)
        })
        .collect();
    LeaveGroupResponse::default().with_members(responses)
}
