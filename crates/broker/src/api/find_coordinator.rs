//! FindCoordinator: this broker coordinates every group and every transactional id (v0–3 one
//! key, v4+ batched keys).

use kafka_protocol::ResponseError;
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{BrokerId, FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_protocol::protocol::StrBytes;

use super::str_bytes;
use crate::server::BrokerContext;

const GROUP: i8 = 0;
const TRANSACTION: i8 = 1;

/// Handles a FindCoordinator request of any supported version.
pub fn handle(
    context: &BrokerContext,
    request: FindCoordinatorRequest,
    version: i16,
) -> FindCoordinatorResponse {
    let (host, port) = &context.advertised;
    let node = BrokerId(context.config.node_id);
    let refused = |code: ResponseError, message: String| {
        Coordinator::default()
            .with_node_id(BrokerId(-1))
            .with_port(-1)
            .with_error_code(code.code())
            .with_error_message(Some(str_bytes(message)))
    };
    let answer = |key: StrBytes| match request.key_type {
        GROUP | TRANSACTION => Coordinator::default()
            .with_key(key)
            .with_node_id(node)
            .with_host(str_bytes(host.clone()))
            .with_port(i32::from(*port)),
        other => refused(
            ResponseError::InvalidRequest,
            format!("coordinator type {other} is not served by Brook"),
        )
        .with_key(key),
    };
    if version >= 4 {
        let coordinators = request
            .coordinator_keys
            .iter()
            .cloned()
            .map(answer)
            .collect();
        return FindCoordinatorResponse::default().with_coordinators(coordinators);
    }
    let one = answer(request.key.clone());
    FindCoordinatorResponse::default()
        .with_error_code(one.error_code)
        .with_error_message(one.error_message)
        .with_node_id(one.node_id)
        .with_host(one.host)
        .with_port(one.port)
}
