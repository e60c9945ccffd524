//! v3 brokers, topics (list, create, get, delete), topic configs (list, get, update, reset,
//! `:alter` in a batch) and partitions.

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rdkafka::admin::{AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::types::RDKafkaErrorCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AppState, answer, base, check_cluster, metadata};
use crate::error::RestError;
use crate::v2::{Proxy, blocking, required_body};

fn unknown_topic() -> RestError {
    RestError::new(
        404,
        40403,
        "This server does not host this topic-partition.",
    )
}

fn options(p: &Proxy) -> AdminOptions {
    AdminOptions::new().operation_timeout(Some(p.kafka.timeout()))
}

fn broker_json(base: &str, cid: &str, id: i32, host: &str, port: i32) -> Value {
    let url = format!("{base}/v3/clusters/{cid}/brokers/{id}");
    json!({
        "kind": "KafkaBroker",
        "metadata": metadata(&url, &format!("crn:///kafka={cid}/broker={id}")),
        "cluster_id": cid, "broker_id": id, "host": host, "port": port, "rack": null,
        "configs": { "related": format!("{url}/configs") },
        "partition_replicas": { "related": format!("{url}/partition-replicas") },
    })
}

/// `GET …/brokers`.
pub async fn brokers(
    State(p): State<AppState>,
    Path(cluster_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let base = base(&headers);
    answer(move || {
        let cid = check_cluster(&p, &cluster_id)?;
        let metadata = p.kafka.metadata(None)?;
        let mut data: Vec<(i32, Value)> = metadata
            .brokers()
            .iter()
            .map(|b| (b.id(), broker_json(&base, &cid, b.id(), b.host(), b.port())))
            .collect();
        data.sort_by_key(|(id, _)| *id);
        Ok(super::list(
            "KafkaBrokerList",
            &format!("{base}/v3/clusters/{cid}/brokers"),
            data.into_iter().map(|(_, v)| v).collect(),
        ))
    })
    .await
}

/// `GET …/brokers/{broker_id}`.
pub async fn broker(
    State(p): State<AppState>,
    Path((cluster_id, broker_id)): Path<(String, i32)>,
    headers: HeaderMap,
) -> Response {
    let base = base(&headers);
    answer(move || {
        let cid = check_cluster(&p, &cluster_id)?;
        let metadata = p.kafka.metadata(None)?;
        let b = metadata
            .brokers()
            .iter()
            .find(|b| b.id() == broker_id)
            .ok_or_else(|| {
                RestError::new(404, 404, format!("Broker {broker_id} cannot be found."))
            })?;
        Ok(broker_json(&base, &cid, b.id(), b.host(), b.port()))
    })
    .await
}

fn topic_json(base: &str, cid: &str, name: &str, partitions: usize, rf: usize) -> Value {
    let url = format!("{base}/v3/clusters/{cid}/topics/{name}");
    json!({
        "kind": "KafkaTopic",
        "metadata": metadata(&url, &format!("crn:///kafka={cid}/topic={name}")),
        "cluster_id": cid,
        "topic_name": name,
        "is_internal": name.starts_with("__"),
        "replication_factor": rf,
        "partitions_count": partitions,
        "partitions": { "related": format!("{url}/partitions") },
        "configs": { "related": format!("{url}/configs") },
        "partition_reassignments": { "related": format!("{url}/partitions/-/reassignment") },
        "authorized_operations": [],
    })
}

fn one_topic(p: &Proxy, base: &str, cid: &str, name: &str) -> Result<Value, RestError> {
    let partitions = p.kafka.partitions(name).map_err(|_| unknown_topic())?;
    let rf = partitions.first().map_or(0, |x| x.replicas.len());
    Ok(topic_json(base, cid, name, partitions.len(), rf))
}

/// `GET …/topics`.
pub async fn list(
    State(p): State<AppState>,
    Path(cluster_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let base = base(&headers);
    answer(move || {
        let cid = check_cluster(&p, &cluster_id)?;
        let metadata = p.kafka.metadata(None)?;
        let mut topics: Vec<(String, Value)> = metadata
            .topics()
            .iter()
            .filter(|t| t.error().is_none())
            .map(|t| {
                let rf = t.partitions().first().map_or(0, |x| x.replicas().len());
                (
                    t.name().to_string(),
                    topic_json(&base, &cid, t.name(), t.partitions().len(), rf),
                )
            })
            .collect();
        topics.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(super::list(
            "KafkaTopicList",
            &format!("{base}/v3/clusters/{cid}/topics"),
            topics.into_iter().map(|(_, v)| v).collect(),
        ))
    })
    .await
}

/// A topic to create.
#[derive(Debug, Deserialize)]
pub struct CreateTopic {
    /// Its name.
    pub topic_name: String,
    /// Partitions (the broker's default when absent).
    #[serde(default)]
    pub partitions_count: Option<i32>,
    /// Replicas (the broker's default when absent).
    #[serde(default)]
    pub replication_factor: Option<i32>,
    /// Configs.
    #[serde(default)]
    pub configs: Vec<ConfigValue>,
}

/// A config name and value.
#[derive(Debug, Deserialize)]
pub struct ConfigValue {
    /// Its name.
    pub name: String,
    /// Its value.
    #[serde(default)]
    pub value: Option<String>,
    /// `SET` (the default) or `DELETE`, in `:alter`.
    #[serde(default)]
    pub operation: Option<String>,
}

/// `POST …/topics` → 201 with the topic.
pub async fn create(
    State(p): State<AppState>,
    Path(cluster_id): Path<String>,
    request: Request,
) -> Response {
    let base = base(request.headers());
    let wanted: CreateTopic = match required_body(&p, request).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let created = blocking(move || {
        let cid = check_cluster(&p, &cluster_id)?;
        let replication = match wanted.replication_factor {
            Some(r) => TopicReplication::Fixed(r),
            None => TopicReplication::Fixed(-1),
        };
        let topic = wanted.configs.iter().fold(
            NewTopic::new(
                &wanted.topic_name,
                wanted.partitions_count.unwrap_or(-1),
                replication,
            ),
            |t, c| t.set(&c.name, c.value.as_deref().unwrap_or_default()),
        );
        let results = brook_client::block_on(p.kafka.admin.create_topics(&[topic], &options(&p)))
            .map_err(|e| RestError::kafka(e.to_string()))?;
        for r in results {
            if let Err((_, code)) = r {
                let message = match code {
                    RDKafkaErrorCode::TopicAlreadyExists => {
                        format!("Topic '{}' already exists.", wanted.topic_name)
                    }
                    other => format!("{other}"),
                };
                return Err(RestError::new(400, 40002, message));
            }
        }
        one_topic(&p, &base, &cid, &wanted.topic_name)
    })
    .await;
    match created {
        Ok(v) => (StatusCode::CREATED, axum::Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET …/topics/{topic}`.
pub async fn get(
    State(p): State<AppState>,
    Path((cluster_id, topic)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let base = base(&headers);
    answer(move || {
        let cid = check_cluster(&p, &cluster_id)?;
        one_topic(&p, &base, &cid, &topic)
    })
    .await
}

/// `DELETE …/topics/{topic}` → 204.
pub async fn delete(
    State(p): State<AppState>,
    Path((cluster_id, topic)): Path<(String, String)>,
) -> Response {
    let deleted = blocking(move || {
        check_cluster(&p, &cluster_id)?;
        let results = brook_client::block_on(p.kafka.admin.delete_topics(&[&topic], &options(&p)))
            .map_err(|e| RestError::kafka(e.to_string()))?;
        for r in results {
            if let Err((_, code)) = r {
                return Err(match code {
                    RDKafkaErrorCode::UnknownTopicOrPartition => unknown_topic(),
                    other => RestError::kafka(other),
                });
            }
        }
        Ok(())
    })
    .await;
    match deleted {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

/// Whose configs: a topic's or a broker's.
#[derive(Clone, Copy)]
enum Owner<'a> {
    Topic(&'a str),
    Broker(i32),
}

/// A `KafkaTopicConfig` or `KafkaBrokerConfig`.
fn config_json(base: &str, cid: &str, owner: Owner<'_>, e: &rdkafka::admin::ConfigEntry) -> Value {
    let (kind, path, crn, key, id) = match owner {
        Owner::Topic(t) => (
            "KafkaTopicConfig",
            format!("topics/{t}"),
            format!("topic={t}"),
            "topic_name",
            json!(t),
        ),
        Owner::Broker(b) => (
            "KafkaBrokerConfig",
            format!("brokers/{b}"),
            format!("broker={b}"),
            "broker_id",
            json!(b),
        ),
    };
    let url = format!("{base}/v3/clusters/{cid}/{path}/configs/{}", e.name);
    let mut config = json!({
        "kind": kind,
        "metadata": metadata(&url, &format!("crn:///kafka={cid}/{crn}/config={}", e.name)),
        "cluster_id": cid,
        "name": e.name,
        "value": if e.is_sensitive { None } else { e.value.clone() },
        "is_default": e.is_default,
        "is_read_only": e.is_read_only,
        "is_sensitive": e.is_sensitive,
        "source": brook_client::config_source_name(&e.source),
        "synonyms": [],
    });
    config[key] = id;
    config
}

fn topic_configs(p: &Proxy, topic: &str) -> Result<Vec<rdkafka::admin::ConfigEntry>, RestError> {
    p.kafka.partitions(topic).map_err(|_| unknown_topic())?;
    let described = brook_client::block_on(
        p.kafka
            .admin
            .describe_configs(&[ResourceSpecifier::Topic(topic)], &options(p)),
    )
    .map_err(|e| RestError::kafka(e.to_string()))?;
    let mut entries: Vec<rdkafka::admin::ConfigEntry> = described
        .into_iter()
        .flatten()
        .flat_map(|r| r.entries)
        .collect();
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

/// `GET …/topics/{topic}/configs`.
pub async fn configs(
    State(p): State<AppState>,
    Path((cluster_id, topic)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let base = base(&headers);
    answer(move || {
        let cid = check_cluster(&p, &cluster_id)?;
        let entries = topic_configs(&p, &topic)?;
        Ok(super::list(
            "KafkaTopicConfigList",
            &format!("{base}/v3/clusters/{cid}/topics/{topic}/configs"),
            entries
                .iter()
                .map(|e| config_json(&base, &cid, Owner::Topic(&topic), e))
                .collect(),
        ))
    })
    .await
}

/// `GET …/topics/{topic}/configs/{name}`.
pub async fn config(
    State(p): State<AppState>,
    Path((cluster_id, topic, name)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let base = base(&headers);
    answer(move || {
        let cid = check_cluster(&p, &cluster_id)?;
        let entries = topic_configs(&p, &topic)?;
        let e = entries
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| RestError::new(404, 404, format!("Config {name} cannot be found.")))?;
        Ok(config_json(&base, &cid, Owner::Topic(&topic), e))
    })
    .await
}

fn alter(p: &Proxy, topic: &str, set: &[(&str, &str)], reset: &[&str]) -> Result<(), RestError> {
    p.kafka.partitions(topic).map_err(|_| unknown_topic())?;
    let metadata = p.kafka.metadata(None)?;
    brook_client::topics::alter_configs(&metadata, topic, set, reset, p.kafka.timeout()).map_err(
        |e| match e {
            brook_client::topics::TopicAdminError::Refused(m) => RestError::new(400, 40002, m),
            brook_client::topics::TopicAdminError::Unreachable(m) => RestError::kafka(m),
        },
    )
}

async fn altered(f: impl FnOnce() -> Result<(), RestError> + Send + 'static) -> Response {
    match blocking(f).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

/// `PUT …/configs/{name}` with `{"value"}` → 204.
pub async fn update_config(
    State(p): State<AppState>,
    Path((cluster_id, topic, name)): Path<(String, String, String)>,
    request: Request,
) -> Response {
    let value: Value = match required_body(&p, request).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let Some(value) = value["value"].as_str().map(str::to_string) else {
        return RestError::bad_request("the body is {\"value\": \"…\"}").into_response();
    };
    altered(move || {
        check_cluster(&p, &cluster_id)?;
        alter(&p, &topic, &[(&name, &value)], &[])
    })
    .await
}

/// `DELETE …/configs/{name}`: back to its default → 204.
pub async fn reset_config(
    State(p): State<AppState>,
    Path((cluster_id, topic, name)): Path<(String, String, String)>,
) -> Response {
    altered(move || {
        check_cluster(&p, &cluster_id)?;
        alter(&p, &topic, &[], &[&name])
    })
    .await
}

/// `{"data": [{"name", "value", "operation"}]}`.
#[derive(Debug, Deserialize)]
pub struct AlterBatch {
    /// The changes.
    pub data: Vec<ConfigValue>,
}

/// `POST …/configs:alter` → 204.
pub async fn alter_configs(
    State(p): State<AppState>,
    Path((cluster_id, topic)): Path<(String, String)>,
    request: Request,
) -> Response {
    let batch: AlterBatch = match required_body(&p, request).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    altered(move || {
        check_cluster(&p, &cluster_id)?;
        let mut set = Vec::new();
        let mut reset = Vec::new();
        for c in &batch.data {
            match c
                .operation
                .as_deref()
                .map(str::to_ascii_uppercase)
                .as_deref()
            {
                None | Some("SET") => set.push((
                    c.name.as_str(),
                    c.value.as_deref().ok_or_else(|| {
                        RestError::bad_request(format!("SET {} needs a value", c.name))
                    })?,
                )),
                Some("DELETE") => reset.push(c.name.as_str()),
                Some(other) => {
                    return Err(RestError::bad_request(format!(
                        "operation {other} is not SET or DELETE"
                    )));
                }
            }
        }
        alter(&p, &topic, &set, &reset)
    })
    .await
}

fn partition_json(base: &str, cid: &str, topic: &str, id: i32, leader: i32) -> Value {
    let url = format!("{base}/v3/clusters/{cid}/topics/{topic}/partitions/{id}");
    json!({
        "kind": "KafkaPartition",
        "metadata": metadata(&url, &format!("crn:///kafka={cid}/topic={topic}/partition={id}")),
        "cluster_id": cid,
        "topic_name": topic,
        "partition_id": id,
        "leader": { "related": format!("{url}/replicas/{leader}") },
        "replicas": { "related": format!("{url}/replicas") },
        "reassignment": { "related": format!("{url}/reassignment") },
    })
}

/// `GET …/topics/{topic}/partitions`.
pub async fn partitions(
    State(p): State<AppState>,
    Path((cluster_id, topic)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let base = base(&headers);
    answer(move || {
        let cid = check_cluster(&p, &cluster_id)?;
        let parts = p.kafka.partitions(&topic).map_err(|_| unknown_topic())?;
        Ok(super::list(
            "KafkaPartitionList",
            &format!("{base}/v3/clusters/{cid}/topics/{topic}/partitions"),
            parts
                .iter()
                .map(|x| partition_json(&base, &cid, &topic, x.id, x.leader))
                .collect(),
        ))
    })
    .await
}

/// `GET …/topics/{topic}/partitions/{partition}`.
pub async fn partition(
    State(p): State<AppState>,
    Path((cluster_id, topic, partition)): Path<(String, String, i32)>,
    headers: HeaderMap,
) -> Response {
    let base = base(&headers);
    answer(move || {
        let cid = check_cluster(&p, &cluster_id)?;
        let parts = p.kafka.partitions(&topic).map_err(|_| unknown_topic())?;
        let x = parts
            .iter()
            .find(|x| x.id == partition)
            .ok_or_else(unknown_topic)?;
        Ok(partition_json(&base, &cid, &topic, x.id, x.leader))
    })
    .await
}

/// `GET …/brokers/{broker_id}/configs`.
pub async fn broker_configs(
    State(p): State<AppState>,
    Path((cluster_id, broker_id)): Path<(String, i32)>,
    headers: HeaderMap,
) -> Response {
    let base = base(&headers);
    answer(move || {
        let cid = check_cluster(&p, &cluster_id)?;
        let described = brook_client::block_on(
            p.kafka
                .admin
                .describe_configs(&[ResourceSpecifier::Broker(broker_id)], &options(&p)),
        )
        .map_err(|e| RestError::kafka(e.to_string()))?;
        let mut entries: Vec<rdkafka::admin::ConfigEntry> = Vec::new();
        for r in described {
            match r {
                Ok(resource) => entries.extend(resource.entries),
                Err(_) => {
                    return Err(RestError::new(
                        404,
                        404,
                        format!("Broker {broker_id} cannot be found."),
                    ));
                }
            }
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        let url = format!("{base}/v3/clusters/{cid}/brokers/{broker_id}/configs");
        let data = entries
            .iter()
            .map(|e| config_json(&base, &cid, Owner::Broker(broker_id), e))
            .collect();
        Ok(super::list("KafkaBrokerConfigList", &url, data))
    })
    .await
}
