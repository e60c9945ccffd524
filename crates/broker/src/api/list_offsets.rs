//! ListOffsets: earliest (-2), latest (-1), max timestamp (-3), earliest local (-4), latest
//! tiered (-5, the same as latest here) and by timestamp. With `isolation_level`
//! READ_COMMITTED (v2+) latest is the last stable offset, and nothing past it is found.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};

use brook_log::OffsetSpec;

use crate::errors::read_error_code;
use crate::server::BrokerContext;

/// Handles a ListOffsets request of any supported version.
pub fn handle(
    context: &BrokerContext,
    request: ListOffsetsRequest,
    version: i16,
) -> ListOffsetsResponse {
    // The leader epoch exists from v4; before it the field must stay at its default.
    let leader_epoch = if version >= 4 { 0 } else { -1 };
    let isolation = if version >= 2 && request.isolation_level == 1 {
        brook_log::Isolation::ReadCommitted
    } else {
        brook_log::Isolation::ReadUncommitted
    };
    let topics = request
        .topics
        .into_iter()
        .map(|wanted| {
            let topic = context.topics.get(&wanted.name);
            let partitions = wanted
                .partitions
                .iter()
                .map(|p| {
                    let response = ListOffsetsPartitionResponse::default()
                        .with_partition_index(p.partition_index)
                        .with_timestamp(-1)
                        .with_offset(-1);
                    let Some(partition) =
                        topic.as_ref().and_then(|t| t.partition(p.partition_index))
                    else {
                        return response
                            .with_error_code(ResponseError::UnknownTopicOrPartition.code());
                    };
                    let spec = match p.timestamp {
                        -2 | -4 => OffsetSpec::Earliest,
                        -1 | -5 => OffsetSpec::Latest,
                        -3 => OffsetSpec::MaxTimestamp,
                        t if t >= 0 => OffsetSpec::Timestamp(t),
                        _ => return response.with_error_code(ResponseError::InvalidRequest.code()),
                    };
                    match partition.log.lookup_offset_isolated(spec, isolation) {
                        Ok(Some(found)) => response
                            .with_timestamp(found.timestamp)
                            .with_offset(found.offset)
                            .with_leader_epoch(leader_epoch),
                        Ok(None) => response,
                        Err(e) => response.with_error_code(read_error_code(&e)),
                    }
                })
                .collect();
            ListOffsetsTopicResponse::default()
                .with_name(wanted.name)
                .with_partitions(partitions)
        })
        .collect();
    ListOffsetsResponse::default().with_topics(topics)
}
