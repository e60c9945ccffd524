//! A task's thread: a source task's records go through its converters to an idempotent
//! producer, with source offsets committed after the producer's flush; a sink task reads its
//! topics in the consumer group `connect-<name>` and commits offsets after its own flush.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use brook_client::Quiet;
use rdkafka::Message as _;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers as _, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use serde_json::Value as Json;

use super::errors::{ErrorHandler, Failure, Original, Stage};
use super::offsets::{OffsetStore, source_key};
use super::status::{self, Status, StatusWriter};
use super::{TargetState, WorkerConfig};
use crate::converters::Converter;
use crate::data::Config;
use crate::plugin::{self, ConnectError, Plugin, SourceTask};
use crate::transforms::{ConnectRecord, Transforms};

/// A running task, controlled through a shared flag.
pub(crate) struct TaskHandle {
    /// RUN, PAUSE or STOP.
    control: Arc<AtomicU8>,
    status: Arc<Mutex<Status>>,
    writer: StatusWriter,
    key: String,
    thread: Option<JoinHandle<()>>,
}

const RUN: u8 = 0;
const PAUSE: u8 = 1;
const STOP: u8 = 2;

impl TaskHandle {
    /// Starts task `id` of `connector` with its task config and its connector's config.
    pub(crate) fn spawn(
        connector: &str,
        id: usize,
        config: &Config,
        connector_config: &Config,
        worker: &WorkerConfig,
        target: TargetState,
        writer: &StatusWriter,
    ) -> TaskHandle {
        let paused = target == TargetState::Paused;
        let control = Arc::new(AtomicU8::new(if paused { PAUSE } else { RUN }));
        let initial = Status {
            state: if paused { "PAUSED" } else { "RUNNING" }.to_string(),
            trace: None,
            worker_id: worker.worker_id.clone(),
        };
        let key = status::task_key(connector, id);
        writer.write(&key, Some(&initial));
        let status = Arc::new(Mutex::new(initial));
        let runner = TaskRunner {
            connector: connector.to_string(),
            id,
            config: config.clone(),
            connector_config: connector_config.clone(),
            worker: worker.clone(),
            control: control.clone(),
            status: status.clone(),
            writer: writer.clone(),
            key: key.clone(),
        };
        let thread = std::thread::Builder::new()
            .name(format!("task-{connector}-{id}"))
            .spawn(move || runner.run())
            .ok();
        TaskHandle {
            control,
            status,
            writer: writer.clone(),
            key,
            thread,
        }
    }

    /// Pauses or resumes it.
    pub(crate) fn set_target(&self, target: TargetState) {
        let control = if target == TargetState::Paused {
            PAUSE
        } else {
            RUN
        };
        self.control.store(control, Ordering::Release);
    }

    /// Its status now.
    pub(crate) fn status(&self) -> Status {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Stops it and waits for its thread (which commits what it has done).
    pub(crate) fn stop(&mut self) {
        self.control.store(STOP, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Stops it and shows it UNASSIGNED (it moves elsewhere or waits for the next assignment).
    pub(crate) fn unassign(&mut self) {
        self.stop();
        let mut status = self.status();
        status.state = "UNASSIGNED".to_string();
        status.trace = None;
        self.writer.write(&self.key, Some(&status));
    }
}

/// One task's thread.
struct TaskRunner {
    connector: String,
    id: usize,
    config: Config,
    connector_config: Config,
    worker: WorkerConfig,
    control: Arc<AtomicU8>,
    status: Arc<Mutex<Status>>,
    writer: StatusWriter,
    /// The status key.
    key: String,
}

impl TaskRunner {
    fn set_status(&self, state: &str, trace: Option<String>) {
        let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
        if s.state != state || s.trace != trace {
            s.state = state.to_string();
            s.trace = trace;
            self.writer.write(&self.key, Some(&s));
        }
    }

    /// Records a topic this task writes or reads, the first time (KIP-558's active topics).
    fn saw_topic(&self, seen: &mut HashSet<String>, topic: &str) {
        if !seen.contains(topic) {
            seen.insert(topic.to_string());
            let value = status::topic_value(topic, &self.connector, self.id);
            self.writer
                .write_json(&status::topic_key(topic, &self.connector), Some(&value));
        }
    }

    fn run(self) {
        let class = self
            .config
            .get("connector.class")
            .cloned()
            .unwrap_or_default();
        let result = match plugin::plugin(&class) {
            None => Err(ConnectError::new(format!("no connector class {class}"))),
            Some(p) if p.kind() == plugin::PluginKind::Sink => self.run_sink(p.as_ref()),
            Some(p) => self.run_source(p.as_ref()),
        };
        if let Err(e) = result {
            tracing::warn!(connector = %self.connector, task = self.id, error = %e, "task failed");
            self.set_status(
                "FAILED",
                Some(format!(
                    "org.apache.kafka.connect.errors.ConnectException: {e}"
                )),
            );
        }
    }

    /// The converter for `side` ("key" or "value") and its class name.
    fn converter(&self, side: &str) -> Result<(Box<dyn Converter>, String), ConnectError> {
        super::converter_for(side, &self.connector_config, &self.worker).map_err(ConnectError::new)
    }

    /// The connector's transforms and error handling.
    fn pipeline(&self) -> Result<(Transforms, ErrorHandler), ConnectError> {
        let transforms = Transforms::from_config(&self.connector_config).map_err(|errors| {
            ConnectError::new(
                errors
                    .iter()
                    .map(|(k, e)| format!("{k}: {e}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        let errors = ErrorHandler::new(
            &self.worker,
            &self.connector,
            self.id,
            &self.connector_config,
        )?;
        Ok((transforms, errors))
    }

    /// A sink task: a consumer in the group `connect-<name>` reads the connector's topics;
    /// records are converted and handed to the task; offsets are committed only after the
    /// task's `flush` succeeded (every `offset.flush.interval`, and on pause and stop).
    fn run_sink(&self, plugin: &dyn Plugin) -> Result<(), ConnectError> {
        let mut task = plugin.sink_task(&self.config)?;
        task.start()?;
        let ((key_converter, key_class), (value_converter, value_class)) =
            (self.converter("key")?, self.converter("value")?);
        let (transforms, errors) = self.pipeline()?;
        let group = format!("connect-{}", self.connector);
        let consumer: BaseConsumer<Quiet> = self
            .worker
            .cluster
            .create(
                &[
                    ("group.id", group.as_str()),
                    ("enable.auto.commit", "false"),
                    ("auto.offset.reset", "earliest"),
                    // A topic created after the subscription (by a source) is found soon.
                    ("topic.metadata.refresh.interval.ms", "2000"),
                    // A dead worker's partitions move after 10 s, as its tasks do.
                    ("session.timeout.ms", "10000"),
                    ("heartbeat.interval.ms", "1000"),
                ],
                Quiet,
            )
            .map_err(|e| ConnectError::new(e.to_string()))?;
        match (self.config.get("topics"), self.config.get("topics.regex")) {
            (Some(topics), _) if !topics.trim().is_empty() => {
                let topics: Vec<&str> = topics
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .collect();
                consumer.subscribe(&topics)
            }
            (_, Some(regex)) => {
                consumer.subscribe(&[&format!("^{}", regex.trim_start_matches('^'))])
            }
            _ => {
                return Err(ConnectError::new(
                    "Must configure one of topics or topics.regex",
                ));
            }
        }
        .map_err(|e| ConnectError::new(format!("cannot subscribe: {e}")))?;
        // Next offset to commit per (topic, partition).
        let mut positions: HashMap<(String, i32), i64> = HashMap::new();
        let mut last_flush = Instant::now();
        let commit = |task: &mut Box<dyn plugin::SinkTask>,
                      positions: &mut HashMap<(String, i32), i64>|
         -> Result<(), ConnectError> {
            if positions.is_empty() {
                return Ok(());
            }
            task.flush()?;
            errors.flush()?;
            let mut offsets = rdkafka::TopicPartitionList::new();
            for ((topic, partition), next) in positions.drain() {
                offsets
                    .add_partition_offset(&topic, partition, rdkafka::Offset::Offset(next))
                    .map_err(|e| ConnectError::new(e.to_string()))?;
            }
            consumer
                .commit(&offsets, rdkafka::consumer::CommitMode::Sync)
                .map_err(|e| ConnectError::new(format!("cannot commit offsets: {e}")))
        };
        let mut paused = false;
        let mut topics = HashSet::new();
        loop {
            match self.control.load(Ordering::Acquire) {
                STOP => break,
                PAUSE => {
                    if !paused {
                        commit(&mut task, &mut positions)?;
                        if let Ok(assigned) = consumer.assignment() {
                            let _ = consumer.pause(&assigned);
                        }
                        paused = true;
                        self.set_status("PAUSED", None);
                    }
                    // Still polled, to stay in the group; paused partitions return nothing.
                    let _ = consumer.poll(Duration::from_millis(100));
                    continue;
                }
                _ => {
                    if paused {
                        if let Ok(assigned) = consumer.assignment() {
                            let _ = consumer.resume(&assigned);
                        }
                        paused = false;
                    }
                    let running =
                        self.status.lock().unwrap_or_else(|p| p.into_inner()).state == "RUNNING";
                    if !running {
                        self.set_status("RUNNING", None);
                    }
                }
            }
            let mut batch = Vec::new();
            let mut next = consumer.poll(Duration::from_millis(100));
            while let Some(polled) = next {
                let m = match polled {
                    Ok(m) => m,
                    // Not fatal (a subscribed topic that does not exist yet, a broker that
                    // went away): librdkafka goes on by itself.
                    Err(e) => {
                        tracing::debug!(connector = %self.connector, error = %e, "consumer");
                        break;
                    }
                };
                self.saw_topic(&mut topics, m.topic());
                positions.insert((m.topic().to_string(), m.partition()), m.offset() + 1);
                let headers: Vec<(String, Option<Vec<u8>>)> = m
                    .headers()
                    .map(|hs| {
                        hs.iter()
                            .map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec)))
                            .collect()
                    })
                    .unwrap_or_default();
                let original = || Original {
                    topic: m.topic(),
                    partition: m.partition(),
                    offset: m.offset(),
                    key: m.key(),
                    value: m.payload(),
                    headers: headers.clone(),
                };
                let decoded = key_converter
                    .decode(m.topic(), m.key())
                    .map_err(|e| (Stage::KeyConverter, key_class.as_str(), e))
                    .and_then(|key| {
                        value_converter
                            .decode(m.topic(), m.payload())
                            .map(|value| (key, value))
                            .map_err(|e| (Stage::ValueConverter, value_class.as_str(), e))
                    });
                let (key, value) = match decoded {
                    Ok(kv) => kv,
                    Err((stage, class, e)) => {
                        errors.failed(Failure {
                            stage,
                            class,
                            message: e.0,
                            original: Some(original()),
                        })?;
                        next = consumer.poll(Duration::ZERO);
                        continue;
                    }
                };
                let record = ConnectRecord {
                    topic: m.topic().to_string(),
                    partition: Some(m.partition()),
                    offset: Some(m.offset()),
                    key_schema: key.0,
                    key: key.1,
                    value_schema: value.0,
                    value: value.1,
                    timestamp: m.timestamp().to_millis(),
                    headers: headers.clone(),
                };
                match transforms.apply(record) {
                    Ok(Some(r)) => batch.push(plugin::SinkRecord {
                        partition: r.partition.unwrap_or(m.partition()),
                        offset: m.offset(),
                        topic: r.topic,
                        key_schema: r.key_schema,
                        key: r.key,
                        value_schema: r.value_schema,
                        value: r.value,
                        timestamp: r.timestamp,
                        headers: r.headers,
                    }),
                    Ok(None) => {}
                    Err(e) => errors.failed(Failure {
                        stage: Stage::Transformation,
                        class: &e.class,
                        message: e.message,
                        original: Some(original()),
                    })?,
                }
                if batch.len() >= 500 {
                    break;
                }
                next = consumer.poll(Duration::ZERO);
            }
            if !batch.is_empty() {
                task.put(batch)?;
            }
            if last_flush.elapsed() >= self.worker.offset_flush_interval {
                commit(&mut task, &mut positions)?;
                last_flush = Instant::now();
            }
        }
        commit(&mut task, &mut positions)
    }

    fn run_source(&self, plugin: &dyn Plugin) -> Result<(), ConnectError> {
        let mut task: Box<dyn SourceTask> = plugin.source_task(&self.config)?;
        let ((key_converter, key_class), (value_converter, value_class)) =
            (self.converter("key")?, self.converter("value")?);
        let (transforms, errors) = self.pipeline()?;
        let deliveries = Deliveries::default();
        // Exactly-once (KIP-618): records and their offsets in one transaction per poll (or
        // per offset.flush.interval), under a transactional id that fences a zombie task.
        let exactly_once = self.worker.exactly_once_source;
        let per_poll = self
            .connector_config
            .get("transaction.boundary")
            .is_none_or(|b| b.trim() == "poll");
        let transactional_id = format!("{}-{}-{}", self.worker.group_id, self.connector, self.id);
        let mut settings = vec![
            ("enable.idempotence", "true"),
            ("linger.ms", "5"),
            ("partitioner", "murmur2_random"),
        ];
        if exactly_once {
            settings.push(("transactional.id", transactional_id.as_str()));
        }
        let producer: ThreadedProducer<Deliveries> = self
            .worker
            .cluster
            .create(&settings, deliveries.clone())
            .map_err(|e| ConnectError::new(e.to_string()))?;
        let txn = |e: rdkafka::error::KafkaError| {
            ConnectError::new(format!("the source transaction failed: {e}"))
        };
        if exactly_once {
            // Fences the task's previous incarnation and aborts its open transaction, so the
            // offsets read next are the last committed ones.
            producer
                .init_transactions(Duration::from_secs(30))
                .map_err(txn)?;
        }
        let offsets = OffsetStore::read(&self.worker, &self.connector)?;
        task.start(&offsets)?;
        let mut in_transaction = false;
        let mut pending: HashMap<String, (Json, Json)> = HashMap::new();
        let mut topics = HashSet::new();
        let mut last_flush = Instant::now();
        // Offsets are committed only once every record before them is acknowledged; then the
        // task may let go of what it read.
        let commit = |pending: &mut HashMap<String, (Json, Json)>,
                      task: &mut Box<dyn SourceTask>,
                      in_transaction: &mut bool|
         -> Result<(), ConnectError> {
            if exactly_once && !*in_transaction {
                return task.commit();
            }
            if !exactly_once {
                producer
                    .flush(Duration::from_secs(30))
                    .map_err(|e| ConnectError::new(format!("cannot flush the producer: {e}")))?;
                deliveries.check()?;
            }
            for (_, (partition, offset)) in pending.drain() {
                let key = source_key(&self.connector, &partition);
                let value = offset.to_string();
                let record = BaseRecord::<str, str>::to(&self.worker.offset_topic)
                    .key(&key)
                    .payload(&value);
                producer
                    .send(record)
                    .map_err(|(e, _)| ConnectError::new(format!("cannot commit offsets: {e}")))?;
            }
            if exactly_once {
                producer
                    .commit_transaction(Duration::from_secs(30))
                    .map_err(txn)?;
                *in_transaction = false;
            } else {
                producer
                    .flush(Duration::from_secs(30))
                    .map_err(|e| ConnectError::new(format!("cannot commit offsets: {e}")))?;
            }
            deliveries.check()?;
            task.commit()
        };
        loop {
            match self.control.load(Ordering::Acquire) {
                STOP => break,
                PAUSE => {
                    if !pending.is_empty() {
                        commit(&mut pending, &mut task, &mut in_transaction)?;
                    }
                    self.set_status("PAUSED", None);
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
                _ => {
                    let running =
                        self.status.lock().unwrap_or_else(|p| p.into_inner()).state == "RUNNING";
                    if !running {
                        self.set_status("RUNNING", None);
                    }
                }
            }
            let Some(records) = task.poll()? else {
                // Finished (a bounded source): commit and idle until stopped.
                commit(&mut pending, &mut task, &mut in_transaction)?;
                while self.control.load(Ordering::Acquire) != STOP {
                    std::thread::sleep(Duration::from_millis(100));
                }
                break;
            };
            for r in records {
                if exactly_once && !in_transaction {
                    producer.begin_transaction().map_err(txn)?;
                    in_transaction = true;
                }
                pending.insert(
                    r.source_partition.to_string(),
                    (r.source_partition, r.source_offset),
                );
                let record = ConnectRecord {
                    topic: r.topic,
                    partition: r.partition,
                    offset: None,
                    key_schema: r.key_schema,
                    key: r.key,
                    value_schema: r.value_schema,
                    value: r.value,
                    timestamp: r.timestamp,
                    headers: r.headers,
                };
                let r = match transforms.apply(record) {
                    Ok(Some(r)) => r,
                    Ok(None) => continue,
                    Err(e) => {
                        errors.failed(Failure {
                            stage: Stage::Transformation,
                            class: &e.class,
                            message: e.message,
                            original: None,
                        })?;
                        continue;
                    }
                };
                self.saw_topic(&mut topics, &r.topic);
                let encoded = key_converter
                    .encode(&r.topic, r.key_schema.as_ref(), &r.key)
                    .map_err(|e| (Stage::KeyConverter, key_class.as_str(), e))
                    .and_then(|key| {
                        value_converter
                            .encode(&r.topic, r.value_schema.as_ref(), &r.value)
                            .map(|value| (key, value))
                            .map_err(|e| (Stage::ValueConverter, value_class.as_str(), e))
                    });
                let (key, value) = match encoded {
                    Ok(kv) => kv,
                    Err((stage, class, e)) => {
                        errors.failed(Failure {
                            stage,
                            class,
                            message: e.0,
                            original: None,
                        })?;
                        continue;
                    }
                };
                let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(&r.topic);
                if let Some(k) = &key {
                    record = record.key(k.as_slice());
                }
                if let Some(v) = &value {
                    record = record.payload(v.as_slice());
                }
                if let Some(p) = r.partition {
                    record = record.partition(p);
                }
                if let Some(t) = r.timestamp {
                    record = record.timestamp(t);
                }
                if !r.headers.is_empty() {
                    let mut headers = OwnedHeaders::new_with_capacity(r.headers.len());
                    for (k, v) in &r.headers {
                        headers = headers.insert(Header {
                            key: k,
                            value: v.as_deref(),
                        });
                    }
                    record = record.headers(headers);
                }
                let mut record = record;
                loop {
                    match producer.send(record) {
                        Ok(()) => break,
                        Err((e, back))
                            if matches!(
                                e.rdkafka_error_code(),
                                Some(rdkafka::types::RDKafkaErrorCode::QueueFull)
                            ) =>
                        {
                            record = back;
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        Err((e, _)) => {
                            return Err(ConnectError::new(format!(
                                "cannot write to {}: {e}",
                                r.topic
                            )));
                        }
                    }
                }
            }
            if (exactly_once && per_poll && in_transaction)
                || last_flush.elapsed() >= self.worker.offset_flush_interval
            {
                commit(&mut pending, &mut task, &mut in_transaction)?;
                last_flush = Instant::now();
            }
        }
        commit(&mut pending, &mut task, &mut in_transaction)
    }
}

/// A producer context that remembers the first record the cluster did not take, so offsets
/// past it are never committed.
#[derive(Clone, Default)]
pub(crate) struct Deliveries {
    failed: Arc<Mutex<Option<String>>>,
}

impl Deliveries {
    pub(crate) fn check(&self) -> Result<(), ConnectError> {
        match self
            .failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            Some(e) => Err(ConnectError::new(format!("a record was not written: {e}"))),
            None => Ok(()),
        }
    }
}

impl rdkafka::ClientContext for Deliveries {}

impl rdkafka::producer::ProducerContext for Deliveries {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &rdkafka::message::DeliveryResult<'_>, _: ()) {
        if let Err((e, m)) = result {
            let mut failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
            if failed.is_none() {
                *failed = Some(format!("{} (topic {})", e, m.topic()));
            }
        }
    }
}
