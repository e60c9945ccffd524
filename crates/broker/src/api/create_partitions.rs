//! CreatePartitions: grows topics; partitions can only be added, never removed. Explicit
//! replica assignments are taken when they name this broker, one per new partition.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::{CreatePartitionsRequest, CreatePartitionsResponse};

use super::str_bytes;
use crate::errors::topic_error_code;
use crate::server::BrokerContext;

/// Handles a CreatePartitions request of any supported version.
pub fn handle(
    context: &BrokerContext,
    request: CreatePartitionsRequest,
) -> CreatePartitionsResponse {
    let results = request
        .topics
        .into_iter()
        .map(|topic| {
            let result = CreatePartitionsTopicResult::default().with_name(topic.name.clone());
            let node = context.config.node_id;
            if topic
                .assignments
                .iter()
                .flatten()
                .any(|a| a.broker_ids.iter().any(|b| b.0 != node))
            {
                return result
                    .with_error_code(ResponseError::InvalidReplicaAssignment.code())
                    .with_error_message(Some(str_bytes(format!("only broker {node} exists"))));
            }
            // As Kafka: one assignment per new partition, each naming at least one broker.
            if let Some(assignments) = &topic.assignments
                && let Some(existing) = context.topics.get(&topic.name)
            {
                let current = existing.partitions.len() as i32;
                let adding = topic.count - current;
                let problem = if assignments.len() as i32 != adding {
                    Some(format!(
                        "Increasing the number of partitions by {adding} but {} assignments \
                         provided.",
                        assignments.len()
                    ))
                } else if assignments.iter().any(|a| a.broker_ids.is_empty()) {
                    Some("Replica assignment must name at least one broker.".to_string())
                } else if assignments.iter().any(|a| a.broker_ids.len() > 1) {
                    Some(format!(
                        "Duplicate brokers in a replica assignment: only broker {node} exists."
                    ))
                } else {
                    None
                };
                if adding > 0
                    && let Some(message) = problem
                {
                    return result
                        .with_error_code(ResponseError::InvalidReplicaAssignment.code())
                        .with_error_message(Some(str_bytes(message)));
                }
            }
            match context
                .topics
                .create_partitions(&topic.name, topic.count, request.validate_only)
            {
                Ok(()) => result,
                Err(e) => result
                    .with_error_code(topic_error_code(&e))
                    .with_error_message(Some(str_bytes(e.to_string()))),
            }
        })
        .collect();
    CreatePartitionsResponse::default().with_results(results)
}
