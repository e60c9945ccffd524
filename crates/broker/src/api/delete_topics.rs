//! DeleteTopics: by name (v0–5) or by name or id (v6+).

use kafka_protocol::ResponseError;
use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::{DeleteTopicsRequest, DeleteTopicsResponse, TopicName};
use uuid::Uuid;

use super::str_bytes;
use crate::server::BrokerContext;

/// Handles a DeleteTopics request of any supported version.
pub fn handle(
    context: &BrokerContext,
    request: DeleteTopicsRequest,
    version: i16,
) -> DeleteTopicsResponse {
    let wanted: Vec<(Option<TopicName>, Uuid)> = if version >= 6 {
        request
            .topics
            .into_iter()
            .map(|t| (t.name, t.topic_id))
            .collect()
    } else {
        request
            .topic_names
            .into_iter()
            .map(|n| (Some(n), Uuid::nil()))
            .collect()
    };
    let responses = wanted
        .into_iter()
        .map(|(name, id)| {
            let topic = match &name {
                Some(name) => context.topics.get(name),
                None => context.topics.get_by_id(id),
            };
            let result = DeletableTopicResult::default()
                .with_name(name.clone())
                .with_topic_id(id);
            let Some(topic) = topic else {
                let code = if name.is_none() {
                    ResponseError::UnknownTopicId.code()
                } else {
                    ResponseError::UnknownTopicOrPartition.code()
                };
                return result.with_error_code(code);
            };
            match context.topics.delete(&topic.name) {
                Ok(id) => result
                    .with_name(Some(TopicName(str_bytes(topic.name.clone()))))
                    .with_topic_id(id),
                Err(e) => result
                    .with_error_code(ResponseError::UnknownServerError.code())
                    .with_error_message(Some(str_bytes(e.to_string()))),
            }
        })
        .collect();
    DeleteTopicsResponse::default().with_responses(responses)
}
