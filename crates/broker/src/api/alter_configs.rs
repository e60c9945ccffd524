//! AlterConfigs: replaces a topic's whole set of overrides, or the broker's dynamic `log.*`
//! defaults (resource name "" for the cluster default, or this broker's id).

use std::collections::BTreeMap;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{AlterConfigsRequest, AlterConfigsResponse, ApiKey, RequestHeader};
use kafka_protocol::protocol::StrBytes;

use super::describe_configs::{BROKER, GROUP, TOPIC};
use super::str_bytes;
use crate::errors::topic_error_code;
use crate::refusals::Missing;
use crate::server::BrokerContext;

/// Handles an AlterConfigs request of any supported version.
pub fn handle(
    context: &BrokerContext,
    header: &RequestHeader,
    request: AlterConfigsRequest,
) -> AlterConfigsResponse {
    let responses = request
        .resources
        .into_iter()
        .map(|resource| {
            let overrides: BTreeMap<String, String> = resource
                .configs
                .iter()
                .filter_map(|c| {
                    c.value
                        .as_ref()
                        .map(|v| (c.name.to_string(), v.to_string()))
                })
                .collect();
            let (code, message) = apply(
                context,
                header,
                resource.resource_type,
                &resource.resource_name,
                |_| Ok(overrides),
                request.validate_only,
            );
            AlterConfigsResourceResponse::default()
                .with_resource_type(resource.resource_type)
                .with_resource_name(resource.resource_name)
                .with_error_code(code)
                .with_error_message(message)
        })
        .collect();
    AlterConfigsResponse::default().with_responses(responses)
}

/// Applies a change to a resource's overrides: `change` maps the current overrides to the new
/// set. Returns Kafka's error code and message (0 and `None` on success). Shared with
/// IncrementalAlterConfigs.
pub(crate) fn apply(
    context: &BrokerContext,
    header: &RequestHeader,
    resource_type: i8,
    resource_name: &StrBytes,
    change: impl FnOnce(&BTreeMap<String, String>) -> Result<BTreeMap<String, String>, String>,
    validate_only: bool,
) -> (i16, Option<StrBytes>) {
    match resource_type {
        TOPIC => {
            let Some(topic) = context.topics.get(resource_name.as_str()) else {
                return (
                    ResponseError::UnknownTopicOrPartition.code(),
                    Some(str_bytes(format!(
                        "topic '{}' does not exist",
                        resource_name.as_str()
                    ))),
                );
            };
            let overrides = match change(&topic.overrides) {
                Ok(overrides) => overrides,
                Err(message) => {
                    return (
                        ResponseError::InvalidConfig.code(),
                        Some(str_bytes(message)),
                    );
                }
            };
            match context
                .topics
                .alter_configs(&topic.name, overrides, validate_only)
            {
                Ok(()) => (0, None),
                Err(e) => (topic_error_code(&e), Some(str_bytes(e.to_string()))),
            }
        }
        BROKER => {
            let name = resource_name.as_str();
            if !name.is_empty() && name != context.config.node_id.to_string() {
                return (
                    ResponseError::InvalidRequest.code(),
                    Some(str_bytes(format!(
                        "broker '{name}' is not this broker ({})",
                        context.config.node_id
                    ))),
                );
            }
            let current = context.topics.dynamic_defaults().clone();
            let configs = match change(&current) {
                Ok(configs) => configs,
                Err(message) => {
                    return (
                        ResponseError::InvalidConfig.code(),
                        Some(str_bytes(message)),
                    );
                }
            };
            match context.topics.alter_broker_defaults(configs, validate_only) {
                Ok(()) => (0, None),
                Err(e) => (topic_error_code(&e), Some(str_bytes(e.to_string()))),
            }
        }
        GROUP => {
            let missing = Missing::GroupConfigs;
            let api = ApiKey::try_from(header.request_api_key).unwrap_or(ApiKey::AlterConfigs);
            context.refusals.refuse(missing, api, header);
            (
                ResponseError::InvalidRequest.code(),
                Some(str_bytes(missing.message())),
            )
        }
        other => (
            ResponseError::InvalidRequest.code(),
            Some(str_bytes(format!("resource type {other} is not supported"))),
        ),
    }
}
