//! The application's internal topics: names (`<application.id>-<name>-repartition`,
//! `<application.id>-<store>-changelog`), the co-partitioning check, and their creation.

use std::collections::{BTreeMap, BTreeSet};

use brook_client::Quiet;

use super::{RuntimeError, StreamsConfig, kafka};
use crate::topology::Topology;

/// The changelog topic of `store`.
pub fn changelog_topic(application_id: &str, store: &str) -> String {
    format!("{application_id}-{store}-changelog")
}

/// The topic name in the cluster: internal topics get the application id prefix.
pub(crate) fn cluster_topic(topology: &Topology, application_id: &str, topic: &str) -> String {
    if topology.is_internal(topic) {
        format!("{application_id}-{topic}")
    } else {
        topic.to_string()
    }
}

/// Checks co-partitioning and creates the repartition and changelog topics; returns the
/// partition count.
pub(crate) fn create_internal_topics(
    topology: &Topology,
    config: &StreamsConfig,
) -> Result<i32, RuntimeError> {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    let admin: AdminClient<Quiet> = config.cluster.create(&[], Quiet)?;
    let metadata = config.cluster.metadata(admin.inner(), None)?;
    let mut counts = BTreeMap::new();
    for topic in topology.input_topics() {
        let found = metadata
            .topics()
            .iter()
            .find(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty())
            .ok_or_else(|| {
                RuntimeError::Unsupported(format!("input topic '{topic}' does not exist"))
            })?;
        counts.insert(topic, found.partitions().len() as i32);
    }
    let partitions: BTreeSet<i32> = counts.values().copied().collect();
    if partitions.len() > 1 {
        return Err(RuntimeError::CoPartitioning(format!("{counts:?}")));
    }
    let partitions = partitions.into_iter().next().unwrap_or(1);
    let joins = &topology.unpartitioned_joins;
    if partitions > 1 && !joins.is_empty() {
        return Err(RuntimeError::Unsupported(format!(
            "{} read{} a stream whose key changed since it was read; with {partitions} \
             partitions its records would meet the wrong task's state: call \
             repartition(Repartitioned::with(key_serde, value_serde)) before the join",
            joins.join(", "),
            if joins.len() == 1 { "s" } else { "" },
        )));
    }
    let app = &config.application_id;
    let mut topics: Vec<(String, bool)> = topology
        .internal_topics()
        .iter()
        .map(|t| (format!("{app}-{t}"), false))
        .collect();
    topics.extend(
        topology
            .store_names()
            .iter()
            .filter(|s| topology.store_options(s).logging)
            .map(|s| (changelog_topic(app, s), true)),
    );
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|(name, compacted)| {
            let topic = NewTopic::new(name, partitions, TopicReplication::Fixed(-1));
            if *compacted {
                topic.set("cleanup.policy", "compact")
            } else {
                topic
            }
        })
        .collect();
    if new.is_empty() {
        return Ok(partitions);
    }
    let options = AdminOptions::new().request_timeout(Some(config.cluster.timeout));
    let results = block_on(admin.create_topics(&new, &options))
        .map_err(kafka("cannot create internal topics"))?;
    for result in results {
        if let Err((name, code)) = result
            && code != rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists
        {
            return Err(RuntimeError::Unsupported(format!(
                "cannot create internal topic {name}: {code}"
            )));
        }
    }
    Ok(partitions)
}

pub(crate) use brook_client::block_on;
