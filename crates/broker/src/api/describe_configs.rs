//! DescribeConfigs for topics (resource type 2) and the broker (type 4), with config sources,
//! synonyms and types as Kafka reports them. A topic config's value comes from, in order: a
//! topic override (source 1), a dynamic broker default (2), a static broker default set at
//! start (4), or Kafka's default (5).

use kafka_protocol::ResponseError;
use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym,
};
use kafka_protocol::messages::{
    ApiKey, DescribeConfigsRequest, DescribeConfigsResponse, RequestHeader,
};

use brook_log::LogConfig;
use brook_log::config::LOG_CONFIG_NAMES;

use super::str_bytes;
use crate::config::{broker_synonym, config_type};
use crate::refusals::Missing;
use crate::server::BrokerContext;

/// Resource type of a topic.
pub const TOPIC: i8 = 2;
/// Resource type of a broker.
pub const BROKER: i8 = 4;
/// Resource type of a group (KIP-848 / KIP-932 group configs): refused for now.
pub const GROUP: i8 = 32;

const DYNAMIC_TOPIC_CONFIG: i8 = 1;
const DYNAMIC_BROKER_CONFIG: i8 = 2;
const STATIC_BROKER_CONFIG: i8 = 4;
const DEFAULT_CONFIG: i8 = 5;

/// One place a value can come from: (name at that level, value, source).
type Origin = (String, Option<String>, i8);

/// Where the broker-level default of a topic config comes from, highest precedence first.
fn default_chain(context: &BrokerContext, topic_name: &str) -> Vec<Origin> {
    let broker_name = broker_synonym(topic_name).unwrap_or(topic_name).to_string();
    let kafka_value = LogConfig::default().get(topic_name);
    let static_value = context.topics.static_defaults().get(topic_name);
    let mut chain = Vec::new();
    if let Some(value) = context.topics.dynamic_defaults().get(&broker_name) {
        chain.push((
            broker_name.clone(),
            Some(value.clone()),
            DYNAMIC_BROKER_CONFIG,
        ));
    }
    if static_value != kafka_value {
        chain.push((broker_name.clone(), static_value, STATIC_BROKER_CONFIG));
    }
    chain.push((broker_name, kafka_value, DEFAULT_CONFIG));
    chain
}

fn entry(
    name: &str,
    value: Option<String>,
    source: i8,
    synonyms: Vec<Origin>,
    include_synonyms: bool,
) -> DescribeConfigsResourceResult {
    let synonyms = if include_synonyms {
        synonyms
            .into_iter()
            .map(|(name, value, source)| {
                DescribeConfigsSynonym::default()
                    .with_name(str_bytes(name))
                    .with_value(value.map(str_bytes))
                    .with_source(source)
            })
            .collect()
    } else {
        Vec::new()
    };
    DescribeConfigsResourceResult::default()
        .with_name(str_bytes(name))
        .with_value(value.map(str_bytes))
        .with_config_source(source)
        .with_synonyms(synonyms)
}

/// Handles a DescribeConfigs request of any supported version.
pub fn handle(
    context: &BrokerContext,
    header: &RequestHeader,
    request: DescribeConfigsRequest,
) -> DescribeConfigsResponse {
    let include_synonyms = request.include_synonyms;
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
            let fail = |code: i16, message: String| {
                result
                    .clone()
                    .with_error_code(code)
                    .with_error_message(Some(str_bytes(message)))
            };
            match resource.resource_type {
                TOPIC => {
                    let name = resource.resource_name.as_str();
                    let Some(topic) = context.topics.get(name) else {
                        return fail(
                            ResponseError::UnknownTopicOrPartition.code(),
                            format!("topic '{name}' does not exist"),
                        );
                    };
                    let configs = LOG_CONFIG_NAMES
                        .iter()
                        .filter(|name| wanted(name))
                        .map(|name| {
                            let mut chain = default_chain(context, name);
                            if let Some(value) = topic.overrides.get(*name) {
                                chain.insert(
                                    0,
                                    (name.to_string(), Some(value.clone()), DYNAMIC_TOPIC_CONFIG),
                                );
                            }
                            let (value, source) = (chain[0].1.clone(), chain[0].2);
                            entry(name, value, source, chain, include_synonyms)
                                .with_config_type(config_type(name))
                        })
                        .collect();
                    result.with_configs(configs)
                }
                BROKER => {
                    let name = resource.resource_name.as_str();
                    if !name.is_empty() && name != context.config.node_id.to_string() {
                        return fail(
                            ResponseError::InvalidRequest.code(),
                            format!(
                                "broker '{name}' is not this broker ({})",
                                context.config.node_id
                            ),
                        );
                    }
                    let listener = context.advertised.clone();
                    let mut configs: Vec<_> =
                        crate::broker_configs::static_configs(&context.config, listener)
                            .into_iter()
                            .filter(|e| wanted(e.name))
                            .map(|e| {
                                entry(e.name, e.value, e.source, Vec::new(), false)
                                    .with_read_only(true)
                                    .with_config_type(e.kind.id())
                            })
                            .collect();
                    for topic_name in LOG_CONFIG_NAMES {
                        let Some(broker_name) = broker_synonym(topic_name) else {
                            continue;
                        };
                        if !wanted(broker_name) {
                            continue;
                        }
                        let chain = default_chain(context, topic_name);
                        let (value, source) = (chain[0].1.clone(), chain[0].2);
                        configs.push(
                            entry(broker_name, value, source, chain, include_synonyms)
                                .with_config_type(config_type(topic_name)),
                        );
                    }
                    result.with_configs(configs)
                }
                GROUP => {
                    let missing = Missing::GroupConfigs;
                    context
                        .refusals
                        .refuse(missing, ApiKey::DescribeConfigs, header);
                    fail(
                        ResponseError::InvalidRequest.code(),
                        missing.message().to_string(),
                    )
                }
                other => fail(
                    ResponseError::InvalidRequest.code(),
                    format!("resource type {other} is not supported"),
                ),
            }
        })
        .collect();
    DescribeConfigsResponse::default().with_results(results)
}
