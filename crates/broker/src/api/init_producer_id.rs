//! InitProducerId: hands idempotent producers their id and epoch.
//!
//! As in Kafka, a request without a transactional id always gets a fresh id with epoch 0, even
//! when it names its current id and epoch (idempotent producers bump their epoch themselves,
//! KIP-360). Ids come from a counter seeded with the start time in microseconds, so a
//! restarted broker never repeats an id it handed out before. Sequence numbers are checked in
//! `brook-log`. Transactional ids are refused until transactions exist, with the non-retriable
//! TRANSACTIONAL_ID_AUTHORIZATION_FAILED that clients treat as fatal.

use std::sync::atomic::{AtomicI64, Ordering};

use kafka_protocol::ResponseError;
use kafka_protocol::messages::{
    ApiKey, InitProducerIdRequest, InitProducerIdResponse, ProducerId, RequestHeader,
};

use crate::server::BrokerContext;

/// Allocates producer ids. One per broker.
#[derive(Debug)]
pub struct ProducerIds(AtomicI64);

impl Default for ProducerIds {
    fn default() -> Self {
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(1);
        ProducerIds(AtomicI64::new(micros))
    }
}

/// Handles an InitProducerId request of any supported version.
pub fn handle(
    context: &BrokerContext,
    header: &RequestHeader,
    request: InitProducerIdRequest,
) -> InitProducerIdResponse {
    if request.transactional_id.is_some() {
        let missing = crate::refusals::Missing::Transactions;
        context
            .refusals
            .refuse(missing, ApiKey::InitProducerId, header);
        return InitProducerIdResponse::default()
            .with_error_code(ResponseError::TransactionalIdAuthorizationFailed.code())
            .with_producer_id(ProducerId(-1))
            .with_producer_epoch(-1);
    }
    let id = context.producer_ids.0.fetch_add(1, Ordering::Relaxed);
    InitProducerIdResponse::default()
        .with_producer_id(ProducerId(id))
        .with_producer_epoch(0)
}
