//! Fetch: stored batches straight from the log, long-polling until `min_bytes` are ready or
//! `max_wait_ms` passes — woken by appends, not by polling. Incremental fetch sessions
//! (KIP-227) are declined by answering session id 0, so clients send full fetches.
//! `isolation_level` READ_COMMITTED (v4+) reads up to the last stable offset and lists the
//! aborted transactions in the returned range, for the client to skip.

use std::time::Duration;

use brook_log::Isolation;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::fetch_response::{
    AbortedTransaction, FetchableTopicResponse, PartitionData,
};
use kafka_protocol::messages::{FetchRequest, FetchResponse};
use tokio::time::Instant;

use crate::errors::read_error_code;
use crate::server::BrokerContext;

/// Handles a Fetch request of any supported version.
pub async fn handle(context: &BrokerContext, request: FetchRequest, version: i16) -> FetchResponse {
    if request.session_id > 0 {
        // We never hand out sessions, so this one cannot exist.
        return FetchResponse::default()
            .with_error_code(ResponseError::FetchSessionIdNotFound.code());
    }
    let deadline = Instant::now() + Duration::from_millis(request.max_wait_ms.max(0) as u64);
    let mut appended = context.topics.subscribe_appends();
    loop {
        appended.borrow_and_update();
        let (responses, bytes, errors) = read_all(context, &request, version);
        if bytes >= request.min_bytes.max(0) as usize || errors || Instant::now() >= deadline {
            return respond(context, responses, version);
        }
        if tokio::time::timeout_at(deadline, appended.changed())
            .await
            .is_err()
        {
            let (responses, _, _) = read_all(context, &request, version);
            return respond(context, responses, version);
        }
    }
}

/// The final response, counted in the bytes-out and records-out metrics.
fn respond(
    context: &BrokerContext,
    responses: Vec<FetchableTopicResponse>,
    version: i16,
) -> FetchResponse {
    for topic in &responses {
        let name = if version >= 13 {
            context
                .topics
                .get_by_id(topic.topic_id)
                .map(|t| t.name.clone())
        } else {
            Some(topic.topic.to_string())
        };
        let Some(name) = name else { continue };
        for partition in &topic.partitions {
            if let Some(records) = partition.records.as_ref().filter(|r| !r.is_empty()) {
                let count = crate::metrics::count_records(records);
                context
                    .metrics
                    .record_out(&name, records.len() as u64, count);
            }
        }
    }
    FetchResponse::default().with_responses(responses)
}

/// One pass over the requested partitions: (responses, bytes read, any partition errored).
fn read_all(
    context: &BrokerContext,
    request: &FetchRequest,
    version: i16,
) -> (Vec<FetchableTopicResponse>, usize, bool) {
    let mut budget = if request.max_bytes > 0 {
        request.max_bytes as usize
    } else {
        usize::MAX
    };
    let isolation = if version >= 4 && request.isolation_level == 1 {
        Isolation::ReadCommitted
    } else {
        Isolation::ReadUncommitted
    };
    let mut total = 0usize;
    let mut errors = false;
    let mut responses = Vec::with_capacity(request.topics.len());
    for wanted in &request.topics {
        let topic = if version >= 13 {
            context.topics.get_by_id(wanted.topic_id)
        } else {
            context.topics.get(&wanted.topic)
        };
        let mut partitions = Vec::with_capacity(wanted.partitions.len());
        for p in &wanted.partitions {
            let response = PartitionData::default()
                .with_partition_index(p.partition)
                .with_high_watermark(-1)
                .with_last_stable_offset(-1)
                .with_log_start_offset(-1);
            let Some(partition) = topic.as_ref().and_then(|t| t.partition(p.partition)) else {
                errors = true;
                let code = if version >= 13 && topic.is_none() {
                    ResponseError::UnknownTopicId.code()
                } else {
                    ResponseError::UnknownTopicOrPartition.code()
                };
                partitions.push(response.with_error_code(code));
                continue;
            };
            let limit = (p.partition_max_bytes.max(0) as usize).min(budget);
            match partition
                .log
                .read_isolated(p.fetch_offset, limit, isolation)
            {
                Ok(read) => {
                    // Only the first partition with data may exceed the limits (one whole batch).
                    let records = if total > 0 && read.records.len() > limit {
                        bytes::Bytes::new()
                    } else {
                        read.records
                    };
                    total += records.len();
                    budget = budget.saturating_sub(records.len());
                    let aborted = read.aborted_transactions.map(|list| {
                        list.iter()
                            .map(|txn| {
                                AbortedTransaction::default()
                                    .with_producer_id(kafka_protocol::messages::ProducerId(
                                        txn.producer_id,
                                    ))
                                    .with_first_offset(txn.first_offset)
                            })
                            .collect()
                    });
                    partitions.push(
                        response
                            .with_high_watermark(read.high_watermark)
                            .with_last_stable_offset(read.last_stable_offset)
                            .with_log_start_offset(read.log_start_offset)
                            .with_aborted_transactions(aborted)
                            .with_records(Some(records)),
                    );
                }
                Err(e) => {
                    errors = true;
                    partitions.push(response.with_error_code(read_error_code(&e)));
                }
            }
        }
        responses.push(
            FetchableTopicResponse::default()
                .with_topic(wanted.topic.clone())
                .with_topic_id(wanted.topic_id)
                .with_partitions(partitions),
        );
    }
    (responses, total, errors)
}
