//! `/topics`, `/topics/{topic}[/partitions[/{partition}[/offsets]]]`, `/brokers`, and
//! producing to a topic or a partition.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Proxy, blocking, body, json};
use crate::error::RestError;
use crate::formats::{Encoder, Format};
use crate::kafka::{Outgoing, PartitionInfo};

type AppState = Arc<Proxy>;

async fn answer(f: impl FnOnce() -> Result<Value, RestError> + Send + 'static) -> Response {
    match blocking(f).await {
        Ok(v) => json(&v),
        Err(e) => e.into_response(),
    }
}

fn partition_json(p: &PartitionInfo) -> Value {
    json!({
        "partition": p.id,
        "leader": p.leader,
        "replicas": p.replicas.iter().map(|r| json!({
            "broker": r,
            "leader": *r == p.leader,
            "in_sync": p.isr.contains(r),
        })).collect::<Vec<_>>(),
    })
}

/// `GET /topics`: the names of the topics that are not internal.
pub async fn list(State(p): State<AppState>) -> Response {
    answer(move || {
        let metadata = p.kafka.metadata(None)?;
        let mut names: Vec<&str> = metadata
            .topics()
            .iter()
            .map(|t| t.name())
            .filter(|n| !n.starts_with("__") && *n != "_schemas")
            .collect();
        names.sort_unstable();
        Ok(json!(names))
    })
    .await
}

/// `GET /topics/{topic}`.
pub async fn describe(State(p): State<AppState>, Path(topic): Path<String>) -> Response {
    answer(move || {
        let partitions = p.kafka.partitions(&topic)?;
        let configs = p.kafka.topic_configs(&topic)?;
        Ok(json!({
            "name": topic,
            "configs": configs,
            "partitions": partitions.iter().map(partition_json).collect::<Vec<_>>(),
        }))
    })
    .await
}

/// `GET /topics/{topic}/partitions`.
pub async fn partitions(State(p): State<AppState>, Path(topic): Path<String>) -> Response {
    answer(move || {
        let partitions = p.kafka.partitions(&topic)?;
        Ok(json!(
            partitions.iter().map(partition_json).collect::<Vec<_>>()
        ))
    })
    .await
}

fn one_partition(p: &Proxy, topic: &str, partition: i32) -> Result<PartitionInfo, RestError> {
    p.kafka
        .partitions(topic)?
        .into_iter()
        .find(|x| x.id == partition)
        .ok_or_else(RestError::partition_not_found)
}

/// `GET /topics/{topic}/partitions/{partition}`.
pub async fn partition(
    State(p): State<AppState>,
    Path((topic, partition)): Path<(String, i32)>,
) -> Response {
    answer(move || Ok(partition_json(&one_partition(&p, &topic, partition)?))).await
}

/// `GET /topics/{topic}/partitions/{partition}/offsets`.
pub async fn partition_offsets(
    State(p): State<AppState>,
    Path((topic, partition)): Path<(String, i32)>,
) -> Response {
    answer(move || {
        one_partition(&p, &topic, partition)?;
        let (beginning, end) = p.kafka.offsets(&topic, partition)?;
        Ok(json!({ "beginning_offset": beginning, "end_offset": end }))
    })
    .await
}

/// `GET /brokers`.
pub async fn brokers(State(p): State<AppState>) -> Response {
    answer(move || {
        let metadata = p.kafka.metadata(None)?;
        let mut ids: Vec<i32> = metadata.brokers().iter().map(|b| b.id()).collect();
        ids.sort_unstable();
        Ok(json!({ "brokers": ids }))
    })
    .await
}

/// A produce request of v2.
#[derive(Debug, Deserialize)]
pub struct ProduceRequest {
    /// The records.
    pub records: Vec<ProduceRecord>,
    /// The keys' schema (registry formats).
    #[serde(default)]
    pub key_schema: Option<String>,
    /// Or its id.
    #[serde(default)]
    pub key_schema_id: Option<i32>,
    /// The values' schema (registry formats).
    #[serde(default)]
    pub value_schema: Option<String>,
    /// Or its id.
    #[serde(default)]
    pub value_schema_id: Option<i32>,
}

/// One record to produce.
#[derive(Debug, Deserialize)]
pub struct ProduceRecord {
    /// Its key.
    #[serde(default)]
    pub key: Value,
    /// Its value.
    #[serde(default)]
    pub value: Value,
    /// A partition (the partitioner's choice by key when absent).
    #[serde(default)]
    pub partition: Option<i32>,
}

/// `POST /topics/{topic}`.
pub async fn produce(
    State(p): State<AppState>,
    Path(topic): Path<String>,
    request: Request,
) -> Response {
    produce_records(p, topic, None, request).await
}

/// `POST /topics/{topic}/partitions/{partition}`.
pub async fn produce_to_partition(
    State(p): State<AppState>,
    Path((topic, partition)): Path<(String, i32)>,
    request: Request,
) -> Response {
    produce_records(p, topic, Some(partition), request).await
}

async fn produce_records(
    p: AppState,
    topic: String,
    partition: Option<i32>,
    request: Request,
) -> Response {
    let (format, produce) = match body::<ProduceRequest>(&p, request).await {
        Ok((format, Some(r))) => (format.unwrap_or(Format::Binary), r),
        Ok((_, None)) => return RestError::bad_request("the request has no body").into_response(),
        Err(e) => return e.into_response(),
    };
    let proxy = p.clone();
    let prepared = blocking(move || {
        let partitions = proxy.kafka.partitions(&topic)?;
        let exists = |id: i32| partitions.iter().any(|x| x.id == id);
        if let Some(id) = partition
            && !exists(id)
        {
            return Err(RestError::partition_not_found());
        }
        if let Some(bad) = produce
            .records
            .iter()
            .filter_map(|r| r.partition)
            .find(|id| !exists(*id))
        {
            return Err(RestError::new(
                404,
                40402,
                format!("Partition not found: {topic}-{bad}"),
            ));
        }
        let registry = proxy.kafka.registry.as_ref();
        let keys = Encoder::new(
            format,
            registry,
            &format!("{topic}-key"),
            produce.key_schema.as_deref(),
            produce.key_schema_id,
            produce.records.iter().any(|r| !r.key.is_null()),
            RestError::key_schema_missing,
        )?;
        let values = Encoder::new(
            format,
            registry,
            &format!("{topic}-value"),
            produce.value_schema.as_deref(),
            produce.value_schema_id,
            produce.records.iter().any(|r| !r.value.is_null()),
            RestError::value_schema_missing,
        )?;
        // Every record is encoded before any is sent: one that does not convert writes
        // nothing.
        let encoded = produce
            .records
            .iter()
            .map(|r| {
                Ok((
                    keys.encode(&r.key)?,
                    values.encode(&r.value)?,
                    partition.or(r.partition),
                ))
            })
            .collect::<Result<Vec<_>, RestError>>()?;
        Ok((topic, encoded, keys.schema_id(), values.schema_id()))
    })
    .await;
    let (topic, encoded, key_schema_id, value_schema_id) = match prepared {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    // Every record is handed to the producer first (librdkafka batches them), then every
    // acknowledgement is awaited.
    let deadline = tokio::time::Instant::now() + p.kafka.timeout();
    let mut pending = Vec::with_capacity(encoded.len());
    for (key, value, partition) in &encoded {
        let record = Outgoing {
            key: key.as_deref(),
            value: value.as_deref(),
            partition: *partition,
            ..Outgoing::default()
        };
        pending.push(p.kafka.send(&topic, record, deadline).await);
    }
    let mut offsets = Vec::with_capacity(pending.len());
    for sent in pending {
        let outcome = match sent {
            Ok(delivery) => match delivery.await {
                Ok(Ok(d)) => Ok((d.partition, d.offset)),
                Ok(Err((e, _))) => Err(e),
                Err(_) => Err(rdkafka::error::KafkaError::Canceled),
            },
            Err(e) => Err(e),
        };
        offsets.push(match outcome {
            Ok((partition, offset)) => json!({
                "partition": partition, "offset": offset,
                "error_code": null, "error": null,
            }),
            Err(e) => {
                let retriable = e.rdkafka_error_code().is_some_and(retriable);
                json!({
                    "partition": null, "offset": null,
                    "error_code": if retriable { 50003 } else { 50002 },
                    "error": e.to_string(),
                })
            }
        });
    }
    json(&json!({
        "key_schema_id": key_schema_id,
        "value_schema_id": value_schema_id,
        "offsets": offsets,
    }))
}

/// Whether Kafka calls this failure retriable (Confluent answers 50003 rather than 50002).
fn retriable(code: rdkafka::types::RDKafkaErrorCode) -> bool {
    use rdkafka::types::RDKafkaErrorCode as C;
    matches!(
        code,
        C::MessageTimedOut
            | C::RequestTimedOut
            | C::NotLeaderForPartition
            | C::LeaderNotAvailable
            | C::NetworkException
            | C::NotEnoughReplicas
            | C::NotEnoughReplicasAfterAppend
            | C::QueueFull
            | C::AllBrokersDown
            | C::BrokerTransportFailure
    )
}
