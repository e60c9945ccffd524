//! ShareGroupHeartbeat: share groups (KIP-932) are not built. The heartbeat is answered with
//! UNSUPPORTED_VERSION and a message, as Kafka answers it while share groups are disabled, so a
//! share consumer fails at once instead of polling an empty assignment forever.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::{ApiKey, RequestHeader, ShareGroupHeartbeatResponse};

use super::str_bytes;
use crate::refusals::Missing;
use crate::server::BrokerContext;

/// Handles a ShareGroupHeartbeat request: always refused.
pub fn heartbeat(context: &BrokerContext, header: &RequestHeader) -> ShareGroupHeartbeatResponse {
    context
        .refusals
        .refuse(Missing::ShareGroups, ApiKey::ShareGroupHeartbeat, header);
    ShareGroupHeartbeatResponse::default()
        .with_error_code(ResponseError::UnsupportedVersion.code())
        .with_error_message(Some(str_bytes(Missing::ShareGroups.message())))
}
