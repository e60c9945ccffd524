//! CreateTopics: partitions (or `num.partitions` for -1), replication factor 1 on one node,
//! explicit replica assignments naming this broker, config overrides validated by the log,
//! `validate_only`.

use std::collections::BTreeMap;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::create_topics_response::{
    CreatableTopicConfigs, CreatableTopicResult,
};
use kafka_protocol::messages::{BrokerId, CreateTopicsRequest, CreateTopicsResponse};

use super::str_bytes;
use crate::errors::topic_error_code;
use crate::server::BrokerContext;

/// Handles a CreateTopics request of any supported version.
pub fn handle(context: &BrokerContext, request: CreateTopicsRequest) -> CreateTopicsResponse {
    let results = request
        .topics
        .into_iter()
        .map(|wanted| {
            let result = CreatableTopicResult::default().with_name(wanted.name.clone());
            let fail = |code: i16, message: String| {
                result
                    .clone()
                    .with_error_code(code)
                    .with_error_message(Some(str_bytes(message)))
            };
            let partitions = if wanted.num_partitions == -1 {
                context.config.num_partitions
            } else {
                wanted.num_partitions
            };
            if !wanted.assignments.is_empty()
                && wanted
                    .assignments
                    .iter()
                    .any(|a| a.broker_ids != [BrokerId(context.config.node_id)])
            {
                return fail(
                    ResponseError::InvalidReplicaAssignment.code(),
                    format!("only broker {} exists", context.config.node_id),
                );
            }
            if !wanted.assignments.is_empty() {
                // As Kafka: assignments replace the counts, and name partitions 0..n once each.
                if wanted.num_partitions != -1 || wanted.replication_factor != -1 {
                    return fail(
                        ResponseError::InvalidRequest.code(),
                        "Both numPartitions or replicationFactor and replicasAssignments were \
                         set. Both cannot be used at the same time."
                            .to_string(),
                    );
                }
                let mut indexes: Vec<i32> = wanted
                    .assignments
                    .iter()
                    .map(|a| a.partition_index)
                    .collect();
                indexes.sort_unstable();
                if !indexes.iter().copied().eq(0..indexes.len() as i32) {
                    return fail(
                        ResponseError::InvalidReplicaAssignment.code(),
                        "Partitions should be 0-based and consecutive.".to_string(),
                    );
                }
            }
            let partitions = if wanted.assignments.is_empty() {
                partitions
            } else {
                wanted.assignments.len() as i32
            };
            if !matches!(wanted.replication_factor, -1 | 1) {
                return fail(
                    ResponseError::InvalidReplicationFactor.code(),
                    format!(
                        "replication factor {} is larger than the 1 available broker",
                        wanted.replication_factor
                    ),
                );
            }
            let mut overrides = BTreeMap::new();
            for config in &wanted.configs {
                if let Some(value) = &config.value {
                    overrides.insert(config.name.to_string(), value.to_string());
                }
            }
            match context
                .topics
                .create(&wanted.name, partitions, overrides, request.validate_only)
            {
                Ok(topic) => {
                    let effective = context
                        .topics
                        .config_for(&topic.overrides)
                        .unwrap_or_default();
                    let configs = brook_log::config::LOG_CONFIG_NAMES
                        .iter()
                        .map(|name| {
                            CreatableTopicConfigs::default()
                                .with_name(str_bytes(*name))
                                .with_value(effective.get(name).map(str_bytes))
                                .with_config_source(if topic.overrides.contains_key(*name) {
                                    1
                                } else {
                                    5
                                })
                        })
                        .collect();
                    result
                        .with_topic_id(topic.id)
                        .with_num_partitions(partitions)
                        .with_replication_factor(1)
                        .with_configs(Some(configs))
                }
                Err(e) => {
                    let code = topic_error_code(&e);
                    fail(code, e.to_string())
                }
            }
        })
        .collect();
    CreateTopicsResponse::default().with_topics(results)
}
