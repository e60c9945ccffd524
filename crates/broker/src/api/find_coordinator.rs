//! FindCoordinator: this broker coordinates every group (v0–3 one key, v4+ batched keys).
//! Transaction coordinators do not exist yet: a transactional producer is refused with the
//! non-retriable TRANSACTIONAL_ID_AUTHORIZATION_FAILED, which librdkafka, the Java client and
//! kafka-python treat as fatal (COORDINATOR_NOT_AVAILABLE would have them retry until their
//! timeout), with a message saying why.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{
    ApiKey, BrokerId, FindCoordinatorRequest, FindCoordinatorResponse, RequestHeader,
};
use kafka_protocol::protocol::StrBytes;

use super::str_bytes;
use crate::refusals::Missing;
use crate::server::BrokerContext;

const GROUP: i8 = 0;
const TRANSACTION: i8 = 1;

/// Handles a FindCoordinator request of any supported version.
pub fn handle(
    context: &BrokerContext,
    header: &RequestHeader,
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
        GROUP => Coordinator::default()
            .with_key(key)
            .with_node_id(node)
            .with_host(str_bytes(host.clone()))
            .with_port(i32::from(*port)),
        TRANSACTION => {
            context
                .refusals
                .refuse(Missing::Transactions, ApiKey::FindCoordinator, header);
            refused(
                ResponseError::TransactionalIdAuthorizationFailed,
                Missing::Transactions.message().to_string(),
            )
            .with_key(key)
        }
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
