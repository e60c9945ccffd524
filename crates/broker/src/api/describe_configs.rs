//! DescribeConfigs for topics (resource type 2) and the broker (type 4), with config sources,
//! synonyms and types as Kafka reports them.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym,
};
use kafka_protocol::messages::{DescribeConfigsRequest, DescribeConfigsResponse};

use brook_log::LogConfig;
use brook_log::config::LOG_CONFIG_NAMES;

use super::str_bytes;
use crate::config::{broker_synonym, config_type};
use crate::server::BrokerContext;

/// Resource type of a topic.
pub const TOPIC: i8 = 2;
/// Resource type of a broker.
pub const BROKER: i8 = 4;

const DYNAMIC_TOPIC_CONFIG: i8 = 1;
const STATIC_BROKER_CONFIG: i8 = 4;
const DEFAULT_CONFIG: i8 = 5;

/// Handles a DescribeConfigs request of any supported version.
pub fn handle(context: &BrokerContext, request: DescribeConfigsRequest) -> DescribeConfigsResponse {
    let kafka_defaults = LogConfig::default();
    let broker_defaults = context.topics.defaults();
    let results = request
        .resources
        .into_iter()
        .map(|resource| {
            let result = DescribeConfigsResult::default()
                .with_resource_type(resource.resource_type)
                .with_resource_name(resource.resource_name.clone());
            let wanted = |name: &str| {
                resource
                    .configuration_keys
                    .as_ref()
                    .is_none_or(|keys| keys.iter().any(|k| k.as_str() == name))
            };
            match resource.resource_type {
                TOPIC => {
                    let Some(topic) = context.topics.get(resource.resource_name.as_str()) else {
                        return result
                            .with_error_code(ResponseError::UnknownTopicOrPartition.code())
                            .with_error_message(Some(str_bytes(format!(
                                "topic '{}' does not exist",
                                resource.resource_name.as_str()
                            ))));
                    };
                    let effective = context
                        .topics
                        .config_for(&topic.overrides)
                        .unwrap_or_else(|_| broker_defaults.clone());
                    let configs = LOG_CONFIG_NAMES
                        .iter()
                        .filter(|name| wanted(name))
                        .map(|name| {
                            let broker_value = broker_defaults.get(name);
                            let static_broker = broker_value != kafka_defaults.get(name);
                            let mut synonyms = Vec::new();
                            if let Some(value) = topic.overrides.get(*name) {
                                synonyms.push(synonym(
                                    name,
                                    Some(value.clone()),
                                    DYNAMIC_TOPIC_CONFIG,
                                ));
                            }
                            if static_broker {
                                synonyms.push(synonym(
                                    broker_synonym(name).unwrap_or(name),
                                    broker_value.clone(),
                                    STATIC_BROKER_CONFIG,
                                ));
                            }
                            synonyms.push(synonym(
                                broker_synonym(name).unwrap_or(name),
                                kafka_defaults.get(name),
                                DEFAULT_CONFIG,
                            ));
                            let source = if topic.overrides.contains_key(*name) {
                                DYNAMIC_TOPIC_CONFIG
                            } else if static_broker {
                                STATIC_BROKER_CONFIG
                            } else {
                                DEFAULT_CONFIG
                            };
                            DescribeConfigsResourceResult::default()
                                .with_name(str_bytes(*name))
                                .with_value(effective.get(name).map(str_bytes))
                                .with_config_source(source)
                                .with_config_type(config_type(name))
                                .with_synonyms(if request.include_synonyms {
                                    synonyms
                                } else {
                                    Vec::new()
                                })
                        })
                        .collect();
                    result.with_configs(configs)
                }
                BROKER => {
                    let name = resource.resource_name.as_str();
                    if !name.is_empty() && name != context.config.node_id.to_string() {
                        return result
                            .with_error_code(ResponseError::InvalidRequest.code())
                            .with_error_message(Some(str_bytes(format!(
                                "broker '{name}' is not this broker ({})",
                                context.config.node_id
                            ))));
                    }
                    let configs = broker_configs(context)
                        .into_iter()
                        .filter(|(name, _, _)| wanted(name))
                        .map(|(name, value, source)| {
                            DescribeConfigsResourceResult::default()
                                .with_name(str_bytes(name))
                                .with_value(Some(str_bytes(value)))
                                .with_config_source(source)
                                .with_read_only(true)
                        })
                        .collect();
                    result.with_configs(configs)
                }
                other => result
                    .with_error_code(ResponseError::InvalidRequest.code())
                    .with_error_message(Some(str_bytes(format!(
                        "resource type {other} is not supported"
                    )))),
            }
        })
        .collect();
    DescribeConfigsResponse::default().with_results(results)
}

fn synonym(name: &str, value: Option<String>, source: i8) -> DescribeConfigsSynonym {
    DescribeConfigsSynonym::default()
        .with_name(str_bytes(name))
        .with_value(value.map(str_bytes))
        .with_source(source)
}

/// The broker's own settings: (Kafka name, value, source).
fn broker_configs(context: &BrokerContext) -> Vec<(String, String, i8)> {
    let config = &context.config;
    let kafka_defaults = LogConfig::default();
    let mut out = vec![
        (
            "node.id".to_string(),
            config.node_id.to_string(),
            STATIC_BROKER_CONFIG,
        ),
        (
            "log.dirs".to_string(),
            config.data_dir.display().to_string(),
            STATIC_BROKER_CONFIG,
        ),
        (
            "num.partitions".to_string(),
            config.num_partitions.to_string(),
            if config.num_partitions == 1 {
                DEFAULT_CONFIG
            } else {
                STATIC_BROKER_CONFIG
            },
        ),
        (
            "auto.create.topics.enable".to_string(),
            config.auto_create_topics.to_string(),
            if config.auto_create_topics {
                DEFAULT_CONFIG
            } else {
                STATIC_BROKER_CONFIG
            },
        ),
        (
            "socket.request.max.bytes".to_string(),
            config.socket_request_max_bytes.to_string(),
            if config.socket_request_max_bytes == 104_857_600 {
                DEFAULT_CONFIG
            } else {
                STATIC_BROKER_CONFIG
            },
        ),
    ];
    for name in LOG_CONFIG_NAMES {
        if let Some(broker_name) = broker_synonym(name) {
            let value = config.log_defaults.get(name).unwrap_or_default();
            let source = if Some(&value) == kafka_defaults.get(name).as_ref() {
                DEFAULT_CONFIG
            } else {
                STATIC_BROKER_CONFIG
            };
            out.push((broker_name.to_string(), value, source));
        }
    }
    out
}
