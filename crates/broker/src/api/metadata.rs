//! Metadata: brokers, cluster id, controller, and topics with their partitions — auto-creating
//! requested topics when `auto.create.topics.enable` and the request allow it.

use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse, TopicName};
use uuid::Uuid;

use super::{authorized_operations, str_bytes};
use crate::server::BrokerContext;
use crate::topics::{Topic, TopicError};

/// Handles a Metadata request of any supported version.
pub fn handle(context: &BrokerContext, request: MetadataRequest, version: i16) -> MetadataResponse {
    let node = BrokerId(context.config.node_id);
    let (host, port) = &context.advertised;
    let broker = MetadataResponseBroker::default()
        .with_node_id(node)
        .with_host(str_bytes(host.clone()))
        .with_port(i32::from(*port));
    // Before v4 there is no flag and requests may always auto-create.
    let may_create =
        context.config.auto_create_topics && (version < 4 || request.allow_auto_topic_creation);
    let topics: Vec<MetadataResponseTopic> = match request.topics {
        None => context
            .topics
            .list()
            .iter()
            .map(|t| describe(t, node))
            .collect(),
        Some(list) if list.is_empty() && version == 0 => context
            .topics
            .list()
            .iter()
            .map(|t| describe(t, node))
            .collect(),
        Some(list) => list
            .into_iter()
            .map(|wanted| match wanted.name {
                Some(name) => lookup_by_name(context, name, may_create, node),
                None => match context.topics.get_by_id(wanted.topic_id) {
                    Some(topic) => describe(&topic, node),
                    None => {
                        topic_error(None, wanted.topic_id, ResponseError::UnknownTopicId.code())
                    }
                },
            })
            .collect(),
    };
    // Without an authorizer every operation is allowed (asked for from v8; the cluster's
    // operations only exist in v8–10).
    let topics = if version >= 8 && request.include_topic_authorized_operations {
        topics
            .into_iter()
            .map(|t| {
                if t.error_code == 0 {
                    t.with_topic_authorized_operations(authorized_operations::TOPIC)
                } else {
                    t
                }
            })
            .collect()
    } else {
        topics
    };
    let cluster_operations =
        if (8..=10).contains(&version) && request.include_cluster_authorized_operations {
            authorized_operations::CLUSTER
        } else {
            authorized_operations::NOT_REQUESTED
        };
    MetadataResponse::default()
        .with_brokers(vec![broker])
        .with_cluster_id(Some(str_bytes(context.config.cluster_id.clone())))
        .with_controller_id(node)
        .with_topics(topics)
        .with_cluster_authorized_operations(cluster_operations)
}

fn lookup_by_name(
    context: &BrokerContext,
    name: TopicName,
    may_create: bool,
    node: BrokerId,
) -> MetadataResponseTopic {
    if let Some(topic) = context.topics.get(&name) {
        return describe(&topic, node);
    }
    if !may_create {
        return topic_error(
            Some(name),
            Uuid::nil(),
            ResponseError::UnknownTopicOrPartition.code(),
        );
    }
    let partitions = context.config.num_partitions;
    match context
        .topics
        .create(&name, partitions, BTreeMap::new(), false)
    {
        Ok(topic) => describe(&topic, node),
        // Another request created it first.
        Err(TopicError::AlreadyExists(_)) => match context.topics.get(&name) {
            Some(topic) => describe(&topic, node),
            None => topic_error(
                Some(name),
                Uuid::nil(),
                ResponseError::LeaderNotAvailable.code(),
            ),
        },
        Err(TopicError::InvalidName { .. }) => topic_error(
            Some(name),
            Uuid::nil(),
            ResponseError::InvalidTopicException.code(),
        ),
        Err(e) => {
            tracing::warn!(topic = %name.as_str(), error = %e, "auto-creation failed");
            topic_error(
                Some(name),
                Uuid::nil(),
                ResponseError::UnknownServerError.code(),
            )
        }
    }
}

fn topic_error(name: Option<TopicName>, id: Uuid, code: i16) -> MetadataResponseTopic {
    MetadataResponseTopic::default()
        .with_name(name)
        .with_topic_id(id)
        .with_error_code(code)
}

/// A topic as Metadata reports it: this broker leads every partition, replica and ISR alone.
pub(crate) fn describe(topic: &Arc<Topic>, node: BrokerId) -> MetadataResponseTopic {
    let partitions = topic
        .partitions
        .iter()
        .map(|p| {
            MetadataResponsePartition::default()
                .with_partition_index(p.index)
                .with_leader_id(node)
                .with_leader_epoch(0)
                .with_replica_nodes(vec![node])
                .with_isr_nodes(vec![node])
        })
        .collect();
    MetadataResponseTopic::default()
        .with_name(Some(TopicName(str_bytes(topic.name.clone()))))
        .with_topic_id(topic.id)
        .with_is_internal(topic.is_internal())
        .with_partitions(partitions)
}
