//! v3 produce: `POST …/topics/{topic}/records` with one record, or — when the request is sent
//! chunked — a stream of them (one JSON object after another), answered as a stream of one
//! JSON result per record, in order, as each is acknowledged. Keys and values are typed:
//! `BINARY` (base64), `JSON`, `STRING`, or `AVRO` / `JSONSCHEMA` / `PROTOBUF` with a `schema`,
//! a `schema_id`, or else the latest schema of the subject (`{topic}-key` / `{topic}-value`,
//! or `subject`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use brook_registry::format::SchemaType;
use rdkafka::producer::DeliveryFuture;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::{AppState, check_cluster};
use crate::error::RestError;
use crate::kafka::Outgoing;
use crate::v2::{Proxy, blocking};

/// One record ready to send, and what its answer reports.
struct Prepared {
    partition: Option<i32>,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<(String, Option<Vec<u8>>)>,
    timestamp: Option<i64>,
    key_kind: Option<(String, usize)>,
    value_kind: Option<(String, usize)>,
}

fn bad(message: impl Into<String>) -> RestError {
    RestError::new(400, 400, message)
}

fn base64_bytes(v: &Value, what: &str) -> Result<Vec<u8>, RestError> {
    let text = v
        .as_str()
        .ok_or_else(|| bad(format!("{what} must be a base64 string")))?;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| bad(format!("{what} is not base64: {e}")))
}

/// Encodes the key or value `spec` (`{"type", "data", …}`).
fn encode(
    p: &Proxy,
    topic: &str,
    side: &str,
    spec: &Value,
) -> Result<Option<(Vec<u8>, String)>, RestError> {
    if spec.is_null() {
        return Ok(None);
    }
    let data = &spec["data"];
    let schema = spec["schema"].as_str();
    let schema_id = spec["schema_id"].as_i64();
    let kind = match spec["type"].as_str() {
        Some(t) => t.to_ascii_uppercase(),
        None if schema.is_some() || schema_id.is_some() || spec.get("subject").is_some() => {
            "SCHEMA".to_string()
        }
        None => "JSON".to_string(),
    };
    let bytes = match kind.as_str() {
        "BINARY" => base64_bytes(data, &format!("the {side}'s data"))?,
        "JSON" => data.to_string().into_bytes(),
        "STRING" => data
            .as_str()
            .ok_or_else(|| bad(format!("the {side}'s STRING data must be a string")))?
            .as_bytes()
            .to_vec(),
        "AVRO" | "JSONSCHEMA" | "PROTOBUF" | "SCHEMA" => {
            let registry = p.kafka.registry.as_ref().ok_or_else(|| {
                RestError::new(
                    500,
                    50001,
                    "no schema registry is configured (brook rest --schema-registry-url)",
                )
            })?;
            let subject = spec["subject"]
                .as_str()
                .map_or_else(|| format!("{topic}-{side}"), str::to_string);
            let schema_type = match kind.as_str() {
                "AVRO" => Some(SchemaType::Avro),
                "JSONSCHEMA" => Some(SchemaType::Json),
                "PROTOBUF" => Some(SchemaType::Protobuf),
                _ => None,
            };
            let (id, parsed) = match (schema, schema_id) {
                (Some(text), _) => registry
                    .register(&subject, schema_type.unwrap_or(SchemaType::Avro), text)
                    .map_err(RestError::registry)?,
                (None, Some(id)) => {
                    let id = i32::try_from(id).map_err(|_| bad("schema_id is out of range"))?;
                    (id, registry.schema(id).map_err(RestError::registry)?)
                }
                (None, None) => registry.latest(&subject).map_err(RestError::registry)?,
            };
            let payload = parsed
                .encode_json(data, None)
                .map_err(RestError::conversion)?;
            brook_registry::wire::frame(id, &payload)
        }
        other => {
            return Err(bad(format!(
                "the {side}'s type {other} is not BINARY, JSON, STRING, AVRO, JSONSCHEMA or PROTOBUF"
            )));
        }
    };
    let shown = match kind.as_str() {
        "SCHEMA" => "AVRO".to_string(),
        k => k.to_string(),
    };
    Ok(Some((bytes, shown)))
}

/// Whether the record's key or value is encoded through the schema registry (blocking calls).
fn needs_registry(request: &Value) -> bool {
    ["key", "value"].iter().any(|side| {
        let spec = &request[*side];
        spec.get("schema").is_some()
            || spec.get("schema_id").is_some()
            || spec.get("subject").is_some()
            || spec["type"].as_str().is_some_and(|t| {
                matches!(
                    t.to_ascii_uppercase().as_str(),
                    "AVRO" | "JSONSCHEMA" | "PROTOBUF"
                )
            })
    })
}

fn prepare(
    p: &Proxy,
    topic: &str,
    partitions: &[i32],
    request: &Value,
) -> Result<Prepared, RestError> {
    if !request.is_object() {
        return Err(bad("a record is a JSON object"));
    }
    let partition = match &request["partition_id"] {
        Value::Null => None,
        v => {
            let id = v
                .as_i64()
                .and_then(|x| i32::try_from(x).ok())
                .ok_or_else(|| bad("partition_id must be a number"))?;
            if !partitions.contains(&id) {
                return Err(RestError::new(
                    404,
                    40403,
                    "This server does not host this topic-partition.",
                ));
            }
            Some(id)
        }
    };
    let key = encode(p, topic, "key", &request["key"])?;
    let value = encode(p, topic, "value", &request["value"])?;
    let mut headers = Vec::new();
    if let Some(list) = request["headers"].as_array() {
        for h in list {
            let name = h["name"]
                .as_str()
                .ok_or_else(|| bad("a header has a name"))?
                .to_string();
            let value = match &h["value"] {
                Value::Null => None,
                v => Some(base64_bytes(v, "a header's value")?),
            };
            headers.push((name, value));
        }
    }
    let timestamp = match &request["timestamp"] {
        Value::Null => None,
        Value::String(s) => Some(
            chrono::DateTime::parse_from_rfc3339(s)
                .map_err(|e| bad(format!("timestamp '{s}' is not RFC 3339: {e}")))?
                .timestamp_millis(),
        ),
        _ => return Err(bad("timestamp is an RFC 3339 string")),
    };
    Ok(Prepared {
        partition,
        key_kind: key.as_ref().map(|(b, k)| (k.clone(), b.len())),
        value_kind: value.as_ref().map(|(b, k)| (k.clone(), b.len())),
        key: key.map(|(b, _)| b),
        value: value.map(|(b, _)| b),
        headers,
        timestamp,
    })
}

/// Hands a prepared record to the producer.
async fn send(p: &Proxy, topic: &str, r: &Prepared) -> Result<DeliveryFuture, RestError> {
    let record = Outgoing {
        key: r.key.as_deref(),
        value: r.value.as_deref(),
        partition: r.partition,
        headers: &r.headers,
        timestamp: r.timestamp,
    };
    let deadline = tokio::time::Instant::now() + p.kafka.timeout();
    p.kafka
        .send(topic, record, deadline)
        .await
        .map_err(|e| RestError::kafka(e.to_string()))
}

fn kind_json(kind: &Option<(String, usize)>) -> Value {
    match kind {
        None => Value::Null,
        Some((k, size)) => json!({ "type": k, "size": size }),
    }
}

/// Waits for the acknowledgement and builds the record's answer.
async fn outcome(
    cluster_id: &str,
    topic: &str,
    prepared: &Prepared,
    delivery: DeliveryFuture,
) -> Result<Value, RestError> {
    let (partition, offset) = match delivery.await {
        Ok(Ok(d)) => (d.partition, d.offset),
        Ok(Err((e, _))) => return Err(RestError::kafka(e.to_string())),
        Err(_) => return Err(RestError::kafka("the delivery was cancelled")),
    };
    let millis = prepared.timestamp.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    });
    let timestamp = chrono::DateTime::from_timestamp_millis(millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    Ok(json!({
        "error_code": 200,
        "cluster_id": cluster_id,
        "topic_name": topic,
        "partition_id": partition,
        "offset": offset,
        "timestamp": timestamp,
        "key": kind_json(&prepared.key_kind),
        "value": kind_json(&prepared.value_kind),
    }))
}

fn error_line(e: &RestError) -> Value {
    json!({ "error_code": e.error_code, "message": e.message })
}

/// `POST …/topics/{topic}/records`.
pub async fn produce(
    State(p): State<AppState>,
    Path((cluster_id, topic)): Path<(String, String)>,
    request: Request,
) -> Response {
    let streaming = request
        .headers()
        .get(header::TRANSFER_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let checked = {
        let (p, cluster_id, topic) = (p.clone(), cluster_id.clone(), topic.clone());
        blocking(move || {
            let cid = check_cluster(&p, &cluster_id)?;
            let partitions = p.kafka.partitions(&topic).map_err(|_| {
                RestError::new(
                    404,
                    40403,
                    "This server does not host this topic-partition.",
                )
            })?;
            Ok((cid, partitions.iter().map(|x| x.id).collect::<Vec<_>>()))
        })
        .await
    };
    let (cid, partitions) = match checked {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    let partitions = Arc::new(partitions);
    if !streaming {
        let limit = p.config.max_body_bytes;
        let bytes = match axum::body::to_bytes(request.into_body(), limit).await {
            Ok(b) => b,
            Err(_) => return RestError::too_large(limit).into_response(),
        };
        let value: Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => return bad(e.to_string()).into_response(),
        };
        let prepared = {
            let (p, topic, partitions) = (p.clone(), topic.clone(), partitions.clone());
            blocking(move || prepare(&p, &topic, &partitions, &value)).await
        };
        let prepared = match prepared {
            Ok(r) => r,
            Err(e) => return e.into_response(),
        };
        let result = match send(&p, &topic, &prepared).await {
            Ok(delivery) => outcome(&cid, &topic, &prepared, delivery).await,
            Err(e) => Err(e),
        };
        return match result {
            Ok(v) => axum::Json(v).into_response(),
            Err(e) => e.into_response(),
        };
    }
    // Streaming: records are read, prepared and handed to the producer as they arrive; a
    // writer answers them in order as they are acknowledged. A client that goes away ends
    // both (the body stream ends; the answer channel closes).
    let (lines, answers) = mpsc::channel::<Result<String, std::io::Error>>(256);
    let (queue, mut queued) = mpsc::channel::<Result<(Prepared, DeliveryFuture), RestError>>(1024);
    {
        let (cid, topic) = (cid.clone(), topic.clone());
        tokio::spawn(async move {
            while let Some(next) = queued.recv().await {
                let line = match next {
                    Ok((prepared, delivery)) => {
                        match outcome(&cid, &topic, &prepared, delivery).await {
                            Ok(v) => v,
                            Err(e) => error_line(&e),
                        }
                    }
                    Err(e) => error_line(&e),
                };
                if lines.send(Ok(format!("{line}\n"))).await.is_err() {
                    return;
                }
            }
        });
    }
    let limit = p.config.max_body_bytes;
    tokio::spawn(async move {
        use futures_util::StreamExt as _;
        let mut stream = request.into_body().into_data_stream();
        let mut buffer: Vec<u8> = Vec::new();
        loop {
            let chunk = stream.next().await;
            let finished = chunk.is_none();
            if let Some(Ok(bytes)) = &chunk {
                buffer.extend_from_slice(bytes);
            } else if let Some(Err(_)) = chunk {
                return;
            }
            // Every complete JSON value in the buffer is a record.
            let mut values = Vec::new();
            let consumed = {
                let mut iter = serde_json::Deserializer::from_slice(&buffer).into_iter::<Value>();
                loop {
                    match iter.next() {
                        Some(Ok(v)) => values.push(Ok(v)),
                        Some(Err(e)) if e.is_eof() && !finished => break,
                        Some(Err(e)) => {
                            values.push(Err(bad(e.to_string())));
                            // Malformed input cannot be resynchronized: stop reading.
                            break;
                        }
                        None => break,
                    }
                }
                iter.byte_offset()
            };
            let malformed = values.iter().any(Result::is_err);
            buffer.drain(..consumed.min(buffer.len()));
            for v in values {
                let next = match v {
                    Ok(value) => {
                        // Only records encoded through the registry need a blocking thread.
                        let prepared = if needs_registry(&value) {
                            let (p, topic, partitions) =
                                (p.clone(), topic.clone(), partitions.clone());
                            blocking(move || prepare(&p, &topic, &partitions, &value)).await
                        } else {
                            prepare(&p, &topic, &partitions, &value)
                        };
                        match prepared {
                            Ok(r) => match send(&p, &topic, &r).await {
                                Ok(d) => Ok((r, d)),
                                Err(e) => Err(e),
                            },
                            Err(e) => Err(e),
                        }
                    }
                    Err(e) => Err(e),
                };
                if queue.send(next).await.is_err() {
                    return;
                }
            }
            if malformed || finished {
                return;
            }
            if buffer.len() > limit {
                let _ = queue.send(Err(RestError::too_large(limit))).await;
                return;
            }
        }
    });
    let body = Body::from_stream(tokio_stream_from(answers));
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A receiver as a stream.
fn tokio_stream_from<T: Send + 'static>(
    mut rx: mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> + Send + 'static {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
