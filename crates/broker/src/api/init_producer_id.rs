//! InitProducerId: hands producers their id and epoch.
//!
//! As in Kafka, a request without a transactional id always gets a fresh id with epoch 0, even
//! when it names its current id and epoch (idempotent producers bump their epoch themselves,
//! KIP-360). Ids come from a counter seeded with the start time in microseconds, so a
//! restarted broker never repeats an id it handed out before. Sequence numbers are checked in
//! `brook-log`. With a transactional id the transaction coordinator answers: the id's producer
//! id with a bumped epoch, fencing the previous producer.

use std::sync::atomic::{AtomicI64, Ordering};

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};

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

impl ProducerIds {
    /// A producer id never handed out before.
    pub fn next(&self) -> i64 {
        self.0.fetch_add(1, Ordering::Relaxed)
    }
}

/// Handles an InitProducerId request of any supported version.
pub async fn handle(
    context: &BrokerContext,
    request: InitProducerIdRequest,
) -> InitProducerIdResponse {
    let Some(transactional_id) = request.transactional_id.as_ref() else {
        return InitProducerIdResponse::default()
            .with_producer_id(ProducerId(context.producer_ids.next()))
            .with_producer_epoch(0);
    };
    let expected = (request.producer_id.0 >= 0 && request.producer_epoch >= 0)
        .then_some((request.producer_id.0, request.producer_epoch));
    let result = context
        .transactions
        .init_producer_id(
            &context.topics,
            &context.coordinator,
            transactional_id,
            request.transaction_timeout_ms,
            expected,
            || context.producer_ids.next(),
        )
        .await;
    match result {
        Ok((producer_id, epoch)) => InitProducerIdResponse::default()
            .with_producer_id(ProducerId(producer_id))
            .with_producer_epoch(epoch),
        Err(error) => InitProducerIdResponse::default()
            .with_error_code(error.code())
            .with_producer_id(ProducerId(-1))
            .with_producer_epoch(-1),
    }
}
