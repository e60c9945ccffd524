//! IncrementalAlterConfigs: SET, DELETE, APPEND and SUBTRACT (list configs) on individual topic
//! configs and dynamic broker defaults.

use std::collections::BTreeMap;

use kafka_protocol::messages::incremental_alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{
    IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse, RequestHeader,
};

use brook_log::config::{ConfigKind, config_kind};

use super::alter_configs::apply;
use crate::server::BrokerContext;

const SET: i8 = 0;
const DELETE: i8 = 1;
const APPEND: i8 = 2;
const SUBTRACT: i8 = 3;

/// Handles an IncrementalAlterConfigs request of any supported version.
pub fn handle(
    context: &BrokerContext,
    header: &RequestHeader,
    request: IncrementalAlterConfigsRequest,
) -> IncrementalAlterConfigsResponse {
    let defaults = context.topics.defaults();
    let responses = request
        .resources
        .into_iter()
        .map(|resource| {
            let ops = resource.configs.clone();
            let change = |current: &BTreeMap<String, String>| {
                let mut next = current.clone();
                for op in &ops {
                    let name = op.name.to_string();
                    let value = op.value.as_ref().map(|v| v.to_string());
                    match op.config_operation {
                        SET => {
                            next.insert(name, value.ok_or("SET needs a value")?);
                        }
                        DELETE => {
                            next.remove(&name);
                        }
                        APPEND | SUBTRACT => {
                            // A broker resource names the topic config by its broker name.
                            let topic_name = crate::config::topic_config_for(&name).unwrap_or(&name);
                            if config_kind(topic_name) != ConfigKind::List {
                                return Err(format!("APPEND and SUBTRACT apply only to list configs; '{name}' is not one"));
                            }
                            let existing = next.get(&name).cloned().or_else(|| defaults.get(topic_name)).unwrap_or_default();
                            let mut items: Vec<String> =
                                existing.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect();
                            for item in value.unwrap_or_default().split(',').filter(|s| !s.is_empty()) {
                                if op.config_operation == APPEND && !items.iter().any(|i| i == item) {
                                    items.push(item.to_string());
                                } else if op.config_operation == SUBTRACT {
                                    items.retain(|i| i != item);
                                }
                            }
                            next.insert(name, items.join(","));
                        }
                        other => return Err(format!("unknown config operation {other}")),
                    }
                }
                Ok(next)
            };
            let (code, message) =
                apply(context, header, resource.resource_type, &resource.resource_name, change, request.validate_only);
            AlterConfigsResourceResponse::default()
                .with_resource_type(resource.resource_type)
                .with_resource_name(resource.resource_name)
                .with_error_code(code)
                .with_error_message(message)
        })
        .collect();
    IncrementalAlterConfigsResponse::default().with_responses(responses)
}
