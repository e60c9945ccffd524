//! Produce: append each partition's batches — stored exactly as produced, unless the topic's
//! `compression.type` names another codec — and answer with per-partition offsets or errors
//! (with per-record errors for keyless records on compacted topics). acks=0 gets no response.

use brook_log::AppendError;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::produce_response::{
    BatchIndexAndErrorMessage, PartitionProduceResponse, TopicProduceResponse,
};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse};

use super::str_bytes;
use crate::errors::append_error_code;
use crate::server::BrokerContext;

/// Handles a Produce request; `None` for acks=0.
pub async fn handle(
    context: &BrokerContext,
    request: ProduceRequest,
    version: i16,
) -> Option<ProduceResponse> {
    let acks = request.acks;
    let acks_valid = matches!(acks, -1..=1);
    let mut responses = Vec::with_capacity(request.topic_data.len());
    let mut appended = false;
    for topic_data in request.topic_data {
        let topic = if version >= 13 {
            context.topics.get_by_id(topic_data.topic_id)
        } else {
            context.topics.get(&topic_data.name)
        };
        // An unknown topic id is UNKNOWN_TOPIC_ID; a known topic's unknown partition is not.
        let unknown = if version >= 13 && topic.is_none() {
            ResponseError::UnknownTopicId.code()
        } else {
            ResponseError::UnknownTopicOrPartition.code()
        };
        let mut partitions = Vec::with_capacity(topic_data.partition_data.len());
        for data in topic_data.partition_data {
            let response = PartitionProduceResponse::default()
                .with_index(data.index)
                .with_base_offset(-1)
                .with_log_append_time_ms(-1)
                .with_log_start_offset(-1);
            let partition = topic
                .as_ref()
                .and_then(|t| t.partition(data.index))
                .cloned();
            let response = match (acks_valid, partition, data.records) {
                (false, _, _) => {
                    response.with_error_code(ResponseError::InvalidRequiredAcks.code())
                }
                (_, None, _) => response.with_error_code(unknown),
                (_, Some(_), None) => {
                    response.with_error_code(ResponseError::CorruptMessage.code())
                }
                // One replica: acks=all cannot be met when more must be in sync (Kafka on a
                // one-broker cluster answers the same).
                (_, Some(partition), Some(_))
                    if acks == -1 && partition.log.min_insync_replicas() > 1 =>
                {
                    let topic = topic.as_ref().map_or("", |t| t.name.as_str());
                    response
                        .with_error_code(ResponseError::NotEnoughReplicas.code())
                        .with_error_message(Some(str_bytes(format!(
                            "The size of the current ISR Set(1) is insufficient to satisfy the \
                             min.isr requirement of {} for partition {topic}-{}",
                            partition.log.min_insync_replicas(),
                            data.index
                        ))))
                }
                (_, Some(partition), Some(records))
                    if let Some(error) = unverified_transaction(
                        context,
                        topic.as_ref().map_or("", |t| t.name.as_str()),
                        &partition,
                        &records,
                    ) =>
                {
                    response
                        .with_error_code(error.code())
                        .with_error_message(Some(str_bytes(format!(
                            "the partition is not part of the producer's ongoing transaction \
                             ({error:?})"
                        ))))
                }
                (_, Some(partition), Some(records)) => {
                    let size = records.len();
                    // Durable appends wait for an fsync: keep that off the async workers.
                    let result = if partition.log.durable_appends() {
                        let p = partition.clone();
                        tokio::task::spawn_blocking(move || p.log.append(&records))
                            .await
                            .expect("append does not panic")
                    } else {
                        partition.log.append(&records)
                    };
                    match result {
                        Ok(info) => {
                            appended = true;
                            if let Some(topic) = &topic {
                                let records = (info.last_offset - info.base_offset + 1) as u64;
                                context.metrics.record_in(&topic.name, size as u64, records);
                            }
                            response
                                .with_base_offset(info.base_offset)
                                .with_log_append_time_ms(info.log_append_time.unwrap_or(-1))
                                .with_log_start_offset(info.log_start_offset)
                        }
                        Err(e) => {
                            tracing::debug!(error = %e, "produce refused");
                            let response = response
                                .with_error_code(append_error_code(&e))
                                .with_error_message(Some(str_bytes(e.to_string())));
                            match &e {
                                // Per-record errors exist from v8.
                                AppendError::KeylessRecords { record_indexes, .. }
                                    if version >= 8 =>
                                {
                                    response.with_record_errors(keyless_record_errors(
                                        record_indexes,
                                        topic.as_ref().map_or("", |t| t.name.as_str()),
                                        data.index,
                                    ))
                                }
                                _ => response,
                            }
                        }
                    }
                }
            };
            partitions.push(response);
        }
        responses.push(
            TopicProduceResponse::default()
                .with_name(topic_data.name)
                .with_topic_id(topic_data.topic_id)
                .with_partition_responses(partitions),
        );
    }
    if appended {
        context.topics.notify_appended();
    }
    (acks != 0).then(|| ProduceResponse::default().with_responses(responses))
}

/// KIP-890's check before a producer's first transactional batch in a partition: the
/// partition must be in the producer's ongoing transaction, or the batch would open a
/// transaction that no marker closes (a "hanging" transaction). `None`: go ahead.
fn unverified_transaction(
    context: &BrokerContext,
    topic: &str,
    partition: &crate::topics::Partition,
    records: &bytes::Bytes,
) -> Option<ResponseError> {
    let batch = brook_protocol::Batches::new(records.clone()).next()?.ok()?;
    let producer_id = batch.producer_id();
    if !batch.attributes().is_transactional()
        || batch.attributes().is_control() // refused by the log as INVALID_RECORD
        || producer_id < 0
        || partition.log.has_open_transaction(producer_id)
    {
        return None;
    }
    context
        .transactions
        .check_produce(
            producer_id,
            batch.producer_epoch(),
            &(topic.to_string(), partition.index),
        )
        .err()
}

/// Kafka's per-record errors for records without a key on a compacted topic.
fn keyless_record_errors(
    record_indexes: &[i32],
    topic: &str,
    partition: i32,
) -> Vec<BatchIndexAndErrorMessage> {
    record_indexes
        .iter()
        .map(|&index| {
            BatchIndexAndErrorMessage::default()
                .with_batch_index(index)
                .with_batch_index_error_message(Some(str_bytes(format!(
                    "Compacted topic cannot accept message without key in topic partition \
                     {topic}-{partition}."
                ))))
        })
        .collect()
}
