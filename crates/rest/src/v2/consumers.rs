//! Consumer instances of v2: each is a Kafka consumer in a group, created by a request,
//! driven by the following ones (subscribe or assign, seek, read records, commit) and closed
//! by a DELETE — or by the proxy when it has been left idle for
//! `consumer.instance.timeout.ms`. At most `max_consumer_instances` are open at once.
//!
//! Offsets are stored only for the records a read returned, so a commit without offsets (or
//! the automatic one) never covers records the client did not get.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use brook_client::{ClusterSettings, Quiet};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Proxy, blocking, body, json, no_content, required_body, typed_json};
use crate::RestConfig;
use crate::error::RestError;
use crate::formats::{self, Format, parse_media_type};

type AppState = Arc<Proxy>;
type Instances = HashMap<(String, String), Arc<Instance>>;

/// One consumer instance.
pub struct Instance {
    /// Its embedded format.
    pub format: Format,
    consumer: Mutex<BaseConsumer<Quiet>>,
    request_timeout: Duration,
    last_used: Mutex<Instant>,
}

/// The open instances, and the thread that closes idle ones.
pub struct Consumers {
    instances: Arc<Mutex<Instances>>,
    settings: ClusterSettings,
    max: usize,
    request_timeout: Duration,
    stop: Arc<AtomicBool>,
}

impl Consumers {
    /// No instances yet; idle ones are closed after `config.consumer_instance_timeout`.
    pub fn new(config: &RestConfig) -> Consumers {
        let instances: Arc<Mutex<Instances>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let idle = config.consumer_instance_timeout;
        {
            let instances = instances.clone();
            let stop = stop.clone();
            let _ = std::thread::Builder::new()
                .name("rest-consumer-reaper".into())
                .spawn(move || {
                    while !stop.load(Ordering::Acquire) {
                        std::thread::sleep(Duration::from_millis(200));
                        let expired: Vec<Arc<Instance>> = {
                            let mut map = instances.lock().unwrap_or_else(|p| p.into_inner());
                            let old: Vec<_> = map
                                .iter()
                                .filter(|(_, i)| i.idle_for() >= idle)
                                .map(|(k, _)| k.clone())
                                .collect();
                            old.iter().filter_map(|k| map.remove(k)).collect()
                        };
                        // Closing leaves the group; it happens outside the lock.
                        drop(expired);
                    }
                });
        }
        Consumers {
            instances,
            settings: config.cluster.clone(),
            max: config.max_consumer_instances,
            request_timeout: config.consumer_request_timeout,
            stop,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Instances> {
        self.instances.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The instance, touched (its idle time starts again), or 40403.
    pub fn get(&self, group: &str, id: &str) -> Result<Arc<Instance>, RestError> {
        let found = self
            .lock()
            .get(&(group.to_string(), id.to_string()))
            .cloned()
            .ok_or_else(RestError::instance_not_found)?;
        *found.last_used.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        Ok(found)
    }

    /// Closes every instance.
    pub fn close_all(&self) {
        let all: Vec<Arc<Instance>> = self.lock().drain().map(|(_, i)| i).collect();
        drop(all);
    }
}

impl Drop for Consumers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

impl Instance {
    fn idle_for(&self) -> Duration {
        self.last_used
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .elapsed()
    }

    fn consumer(&self) -> std::sync::MutexGuard<'_, BaseConsumer<Quiet>> {
        self.consumer.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A number or a string holding one (Confluent's examples send both).
fn number(v: &Option<Value>, name: &str) -> Result<Option<u64>, RestError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| RestError::invalid_consumer_config(format!("{name} must be a count"))),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| RestError::invalid_consumer_config(format!("{name} must be a count"))),
        Some(_) => Err(RestError::invalid_consumer_config(format!(
            "{name} must be a count"
        ))),
    }
}

/// What creating an instance takes.
#[derive(Debug, Default, Deserialize)]
pub struct CreateInstance {
    /// Its id (generated when absent).
    #[serde(default)]
    pub name: Option<String>,
    /// `binary` (the default), `json`, `avro`, `jsonschema` or `protobuf`.
    #[serde(default)]
    pub format: Option<String>,
    /// `earliest`, `latest` (the default) or `none`.
    #[serde(default, rename = "auto.offset.reset")]
    pub auto_offset_reset: Option<String>,
    /// `true` (the default) or `false`.
    #[serde(default, rename = "auto.commit.enable")]
    pub auto_commit_enable: Option<Value>,
    /// The consumer's `fetch.min.bytes`.
    #[serde(default, rename = "fetch.min.bytes")]
    pub fetch_min_bytes: Option<Value>,
    /// The longest a records read of this instance waits (ms).
    #[serde(default, rename = "consumer.request.timeout.ms")]
    pub request_timeout_ms: Option<Value>,
}

fn new_instance_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("rest-consumer-{:016x}", h.finish())
}

/// `POST /consumers/{group}`.
pub async fn create(
    State(p): State<AppState>,
    Path(group): Path<String>,
    request: Request,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost:8082")
        .to_string();
    let config: CreateInstance = match body(&p, request).await {
        Ok((_, c)) => c.unwrap_or_default(),
        Err(e) => return e.into_response(),
    };
    let created = blocking(move || {
        let format = match &config.format {
            None => Format::Binary,
            Some(f) => Format::from_name(f).ok_or_else(|| {
                RestError::invalid_consumer_config(format!(
                    "format '{f}' is not binary, json, avro, jsonschema or protobuf"
                ))
            })?,
        };
        let reset = config.auto_offset_reset.as_deref().unwrap_or("latest");
        if !matches!(reset, "earliest" | "latest" | "none") {
            return Err(RestError::invalid_consumer_config(format!(
                "auto.offset.reset '{reset}' is not earliest, latest or none"
            )));
        }
        let reset = if reset == "none" { "error" } else { reset };
        let auto_commit = match &config.auto_commit_enable {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
            Some(other) => {
                return Err(RestError::invalid_consumer_config(format!(
                    "auto.commit.enable must be true or false, not {other}"
                )));
            }
        };
        let fetch_min = number(&config.fetch_min_bytes, "fetch.min.bytes")?;
        let request_timeout = number(&config.request_timeout_ms, "consumer.request.timeout.ms")?
            .map_or(p.consumers.request_timeout, Duration::from_millis);
        let id = config.name.clone().unwrap_or_else(new_instance_id);
        if id.is_empty() || id.contains('/') {
            return Err(RestError::invalid_consumer_config(format!(
                "'{id}' cannot name a consumer instance"
            )));
        }
        let key = (group.clone(), id.clone());
        {
            let map = p.consumers.lock();
            if map.contains_key(&key) {
                return Err(RestError::instance_exists());
            }
            if map.len() >= p.consumers.max {
                return Err(RestError::too_many_instances(p.consumers.max));
            }
        }
        let fetch_min = fetch_min.map(|n| n.to_string());
        let mut settings: Vec<(&str, &str)> = vec![
            ("group.id", &group),
            ("client.id", &id),
            ("auto.offset.reset", reset),
            (
                "enable.auto.commit",
                if auto_commit { "true" } else { "false" },
            ),
            ("enable.auto.offset.store", "false"),
        ];
        if let Some(n) = &fetch_min {
            settings.push(("fetch.min.bytes", n));
        }
        let consumer: BaseConsumer<Quiet> = p
            .consumers
            .settings
            .create(&settings, Quiet)
            .map_err(|e| RestError::invalid_consumer_config(e.to_string()))?;
        let instance = Arc::new(Instance {
            format,
            consumer: Mutex::new(consumer),
            request_timeout,
            last_used: Mutex::new(Instant::now()),
        });
        let mut map = p.consumers.lock();
        if map.contains_key(&key) {
            return Err(RestError::instance_exists());
        }
        map.insert(key, instance);
        Ok(json!({
            "instance_id": id,
            "base_uri": format!("http://{host}/consumers/{group}/instances/{id}"),
        }))
    })
    .await;
    match created {
        Ok(v) => json(&v),
        Err(e) => e.into_response(),
    }
}

/// `DELETE /consumers/{group}/instances/{instance}`: leaves the group and closes.
pub async fn delete(
    State(p): State<AppState>,
    Path((group, id)): Path<(String, String)>,
) -> Response {
    let removed = p.consumers.lock().remove(&(group, id));
    match removed {
        None => RestError::instance_not_found().into_response(),
        Some(instance) => {
            let _ = blocking(move || {
                drop(instance);
                Ok(())
            })
            .await;
            no_content()
        }
    }
}

/// Runs `f` on the instance's consumer off the async threads.
async fn with_consumer<T: Send + 'static>(
    p: &AppState,
    group: String,
    id: String,
    f: impl FnOnce(&Instance, &BaseConsumer<Quiet>) -> Result<T, RestError> + Send + 'static,
) -> Result<T, RestError> {
    let instance = p.consumers.get(&group, &id)?;
    blocking(move || {
        let consumer = instance.consumer();
        f(&instance, &consumer)
    })
    .await
}

fn done<T>(result: Result<T, RestError>, f: impl FnOnce(T) -> Response) -> Response {
    match result {
        Ok(v) => f(v),
        Err(e) => e.into_response(),
    }
}

/// A subscription.
#[derive(Debug, Default, Deserialize)]
pub struct Subscription {
    /// Topics.
    #[serde(default)]
    pub topics: Option<Vec<String>>,
    /// Or a regular expression of topics.
    #[serde(default)]
    pub topic_pattern: Option<String>,
}

fn manually_assigned(consumer: &BaseConsumer<Quiet>) -> bool {
    consumer
        .subscription()
        .map(|s| s.count() == 0)
        .unwrap_or(true)
        && consumer
            .assignment()
            .map(|a| a.count() > 0)
            .unwrap_or(false)
}

/// `POST …/subscription`.
pub async fn subscribe(
    State(p): State<AppState>,
    Path((group, id)): Path<(String, String)>,
    request: Request,
) -> Response {
    let subscription: Subscription = match required_body(&p, request).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let result = with_consumer(&p, group, id, move |_, consumer| {
        if manually_assigned(consumer) {
            return Err(RestError::illegal_state(
                "Subscription to topics, partitions and pattern are mutually exclusive",
            ));
        }
        let topics: Vec<String> = match (subscription.topics, subscription.topic_pattern) {
            (Some(t), None) if !t.is_empty() => t,
            (None, Some(pattern)) => vec![if pattern.starts_with('^') {
                pattern
            } else {
                format!("^{pattern}")
            }],
            _ => {
                return Err(RestError::new(
                    422,
                    42204,
                    "A subscription names either topics or a topic_pattern",
                ));
            }
        };
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer
            .subscribe(&names)
            .map_err(|e| RestError::kafka(e.to_string()))
    })
    .await;
    done(result, |()| no_content())
}

/// `GET …/subscription`.
pub async fn subscription(
    State(p): State<AppState>,
    Path((group, id)): Path<(String, String)>,
) -> Response {
    let result = with_consumer(&p, group, id, |_, consumer| {
        let topics: Vec<String> = consumer
            .subscription()
            .map(|s| s.elements().iter().map(|e| e.topic().to_string()).collect())
            .unwrap_or_default();
        Ok(json!({ "topics": topics }))
    })
    .await;
    done(result, |v| json(&v))
}

/// `DELETE …/subscription`.
pub async fn unsubscribe(
    State(p): State<AppState>,
    Path((group, id)): Path<(String, String)>,
) -> Response {
    let result = with_consumer(&p, group, id, |_, consumer| {
        consumer.unsubscribe();
        Ok(())
    })
    .await;
    done(result, |()| no_content())
}

/// A topic partition in a request.
#[derive(Debug, Deserialize)]
pub struct PartitionRef {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
}

/// `{"partitions": [...]}`.
#[derive(Debug, Deserialize)]
pub struct Partitions {
    /// The partitions.
    pub partitions: Vec<PartitionRef>,
}

/// A topic partition and an offset in a request.
#[derive(Debug, Deserialize)]
pub struct OffsetRef {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Commit metadata.
    #[serde(default)]
    pub metadata: Option<String>,
}

/// `{"offsets": [...]}`.
#[derive(Debug, Deserialize)]
pub struct Offsets {
    /// The offsets.
    pub offsets: Vec<OffsetRef>,
}

fn kafka_error(e: rdkafka::error::KafkaError) -> RestError {
    RestError::kafka(e.to_string())
}

/// `POST …/assignments`.
pub async fn assign(
    State(p): State<AppState>,
    Path((group, id)): Path<(String, String)>,
    request: Request,
) -> Response {
    let wanted: Partitions = match required_body(&p, request).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let result = with_consumer(&p, group, id, move |_, consumer| {
        if consumer
            .subscription()
            .map(|s| s.count() > 0)
            .unwrap_or(false)
        {
            return Err(RestError::illegal_state(
                "Subscription to topics, partitions and pattern are mutually exclusive",
            ));
        }
        let mut list = TopicPartitionList::new();
        for r in &wanted.partitions {
            list.add_partition(&r.topic, r.partition);
        }
        consumer.assign(&list).map_err(kafka_error)
    })
    .await;
    done(result, |()| no_content())
}

/// `GET …/assignments`.
pub async fn assignments(
    State(p): State<AppState>,
    Path((group, id)): Path<(String, String)>,
) -> Response {
    let result = with_consumer(&p, group, id, |_, consumer| {
        let list = consumer.assignment().map_err(kafka_error)?;
        let partitions: Vec<Value> = list
            .elements()
            .iter()
            .map(|e| json!({ "topic": e.topic(), "partition": e.partition() }))
            .collect();
        Ok(json!({ "partitions": partitions }))
    })
    .await;
    done(result, |v| json(&v))
}

fn seek_all(
    consumer: &BaseConsumer<Quiet>,
    targets: Vec<(String, i32, Offset)>,
    timeout: Duration,
) -> Result<(), RestError> {
    for (topic, partition, offset) in targets {
        consumer
            .seek(&topic, partition, offset, timeout)
            .map_err(|e| {
                RestError::illegal_state(format!(
                    "cannot seek {topic}-{partition} (it must be assigned to this instance): {e}"
                ))
            })?;
    }
    Ok(())
}

/// `POST …/positions`.
pub async fn seek(
    State(p): State<AppState>,
    Path((group, id)): Path<(String, String)>,
    request: Request,
) -> Response {
    let wanted: Offsets = match required_body(&p, request).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let timeout = p.kafka.timeout();
    let result = with_consumer(&p, group, id, move |_, consumer| {
        seek_all(
            consumer,
            wanted
                .offsets
                .into_iter()
                .map(|o| (o.topic, o.partition, Offset::Offset(o.offset)))
                .collect(),
            timeout,
        )
    })
    .await;
    done(result, |()| no_content())
}

async fn seek_to(p: AppState, group: String, id: String, request: Request, to: Offset) -> Response {
    let wanted: Partitions = match required_body(&p, request).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let timeout = p.kafka.timeout();
    let result = with_consumer(&p, group, id, move |_, consumer| {
        seek_all(
            consumer,
            wanted
                .partitions
                .into_iter()
                .map(|r| (r.topic, r.partition, to))
                .collect(),
            timeout,
        )
    })
    .await;
    done(result, |()| no_content())
}

/// `POST …/positions/beginning`.
pub async fn seek_to_beginning(
    State(p): State<AppState>,
    Path((group, id)): Path<(String, String)>,
    request: Request,
) -> Response {
    seek_to(p, group, id, request, Offset::Beginning).await
}

/// `POST …/positions/end`.
pub async fn seek_to_end(
    State(p): State<AppState>,
    Path((group, id)): Path<(String, String)>,
    request: Request,
) -> Response {
    seek_to(p, group, id, request, Offset::End).await
}

/// `timeout` (ms) and `max_bytes` of a records read.
#[derive(Debug, Deserialize)]
pub struct ReadQuery {
    /// The longest to wait (capped by the instance's `consumer.request.timeout.ms`).
    #[serde(default)]
    pub timeout: Option<u64>,
    /// The most bytes of keys and values to return.
    #[serde(default)]
    pub max_bytes: Option<usize>,
}

/// `GET …/records`: the records that arrive within the timeout (or up to `max_bytes`), in the
/// instance's embedded format.
pub async fn records(
    State(p): State<AppState>,
    Path((group, id)): Path<(String, String)>,
    Query(query): Query<ReadQuery>,
    request: Request,
) -> Response {
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_string();
    let instance = match p.consumers.get(&group, &id) {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    let named: Vec<Format> = accept
        .split(',')
        .filter_map(|a| parse_media_type(a).ok().flatten())
        .collect();
    if !named.is_empty() && !named.contains(&instance.format) {
        return RestError::format_mismatch().into_response();
    }
    let max_bytes = query
        .max_bytes
        .unwrap_or(usize::MAX)
        .min(p.config.consumer_request_max_bytes);
    let wait = query
        .timeout
        .map_or(instance.request_timeout, Duration::from_millis)
        .min(instance.request_timeout);
    let format = instance.format;
    let proxy = p.clone();
    let read = blocking(move || {
        let consumer = instance.consumer();
        let subscribed = consumer
            .subscription()
            .map(|s| s.count() > 0)
            .unwrap_or(false);
        let assigned = consumer
            .assignment()
            .map(|a| a.count() > 0)
            .unwrap_or(false);
        if !subscribed && !assigned {
            return Err(RestError::illegal_state(
                "Consumer is not subscribed to any topics or assigned any partitions",
            ));
        }
        let registry = proxy.kafka.registry.as_ref();
        let deadline = Instant::now() + wait;
        let mut out = Vec::new();
        let mut bytes = 0usize;
        while bytes < max_bytes {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match consumer.poll(left) {
                None => {}
                Some(Ok(m)) => {
                    let decoded = formats::decode(format, registry, m.key())
                        .and_then(|k| Ok((k, formats::decode(format, registry, m.payload())?)));
                    let (key, value) = match decoded {
                        Ok(kv) => kv,
                        Err(e) => {
                            // A record this format cannot show: the next read starts at it
                            // again (as a Kafka consumer stops at a record it cannot
                            // deserialize; seeking past it skips it). What was read before it
                            // is returned first.
                            let _ = consumer.seek(
                                m.topic(),
                                m.partition(),
                                rdkafka::Offset::Offset(m.offset()),
                                std::time::Duration::from_secs(5),
                            );
                            if !out.is_empty() {
                                break;
                            }
                            return Err(RestError::kafka(format!(
                                "{} at {}-{} offset {}",
                                e.message,
                                m.topic(),
                                m.partition(),
                                m.offset()
                            )));
                        }
                    };
                    bytes += m.key().map_or(0, <[u8]>::len) + m.payload().map_or(0, <[u8]>::len);
                    out.push(json!({
                        "topic": m.topic(),
                        "key": key,
                        "value": value,
                        "partition": m.partition(),
                        "offset": m.offset(),
                    }));
                    consumer
                        .store_offset_from_message(&m)
                        .map_err(kafka_error)?;
                }
                Some(Err(e)) => return Err(kafka_error(e)),
            }
        }
        Ok(Value::Array(out))
    })
    .await;
    match read {
        Ok(v) => typed_json(&v, &format.media_type()),
        Err(e) => e.into_response(),
    }
}

/// `POST …/offsets`: commits the given offsets (each the last record processed: Kafka
/// stores the next one), or without a body every record returned so far.
pub async fn commit(
    State(p): State<AppState>,
    Path((group, id)): Path<(String, String)>,
    request: Request,
) -> Response {
    let given: Option<Offsets> = match body(&p, request).await {
        Ok((_, o)) => o,
        Err(e) => return e.into_response(),
    };
    let result = with_consumer(&p, group, id, move |_, consumer| match given {
        Some(offsets) if !offsets.offsets.is_empty() => {
            let mut list = TopicPartitionList::new();
            for o in &offsets.offsets {
                list.add_partition_offset(&o.topic, o.partition, Offset::Offset(o.offset + 1))
                    .map_err(kafka_error)?;
                if let Some(meta) = &o.metadata
                    && let Some(mut e) = list.find_partition(&o.topic, o.partition)
                {
                    e.set_metadata(meta.clone());
                }
            }
            consumer
                .commit(&list, CommitMode::Sync)
                .map_err(kafka_error)
        }
        _ => match consumer.commit_consumer_state(CommitMode::Sync) {
            Ok(()) => Ok(()),
            // Nothing returned yet: nothing to commit.
            Err(e)
                if e.rdkafka_error_code() == Some(rdkafka::types::RDKafkaErrorCode::NoOffset) =>
            {
                Ok(())
            }
            Err(e) => Err(kafka_error(e)),
        },
    })
    .await;
    done(result, |()| json(&json!([])))
}

/// `GET …/offsets` with `{"partitions": [...]}`: the group's committed offsets.
pub async fn committed(
    State(p): State<AppState>,
    Path((group, id)): Path<(String, String)>,
    request: Request,
) -> Response {
    let wanted: Partitions = match body(&p, request).await {
        Ok((_, Some(s))) => s,
        Ok((_, None)) => Partitions {
            partitions: Vec::new(),
        },
        Err(e) => return e.into_response(),
    };
    let timeout = p.kafka.timeout();
    let result = with_consumer(&p, group, id, move |_, consumer| {
        let mut list = TopicPartitionList::new();
        for r in &wanted.partitions {
            list.add_partition(&r.topic, r.partition);
        }
        if list.count() == 0 {
            list = consumer.assignment().map_err(kafka_error)?;
        }
        let found = consumer
            .committed_offsets(list, timeout)
            .map_err(kafka_error)?;
        let offsets: Vec<Value> = found
            .elements()
            .iter()
            .filter_map(|e| match e.offset() {
                Offset::Offset(o) => Some(json!({
                    "topic": e.topic(), "partition": e.partition(), "offset": o,
                    "metadata": e.metadata(),
                })),
                _ => None,
            })
            .collect();
        Ok(json!({ "offsets": offsets }))
    })
    .await;
    done(result, |v| json(&v))
}
