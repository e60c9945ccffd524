//! The worker: it follows the config topic ([`config_log`]) and makes what runs here match
//! it — the connectors and tasks the log assigns to this worker, in their target states.
//! Membership in the worker group ([`group`]) decides the assignment; statuses go to and
//! come from the status topic ([`status`]); each task runs on its own thread ([`task`]),
//! source offsets in the offsets topic ([`offsets`]).
//!
//! A write through the REST API is produced to the config topic and answered once the
//! follower has applied it, so every change goes through the log, as in a Kafka Connect
//! cluster, and any worker of the group can take it.

mod config_log;
mod errors;
mod group;
mod offsets;
mod status;
mod task;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use brook_client::{ClusterSettings, Quiet, block_on};
use rdkafka::Message as _;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use serde_json::{Value as Json, json};

pub use config_log::{ConnectorInfo, TargetState};
pub use status::Status;

use crate::converters;
use crate::data::Config;
use crate::plugin::{self, Plugin};
use config_log::{ConfigLog, MEMBERS_KEY, Restart};
use group::{GroupEvent, Membership};
use offsets::OffsetStore;
use status::{StatusReader, StatusWriter};
use task::TaskHandle;

/// How a worker is set up (Kafka Connect's distributed worker settings).
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The cluster.
    pub cluster: ClusterSettings,
    /// `group.id`: workers with the same id form one Connect cluster.
    pub group_id: String,
    /// `config.storage.topic`.
    pub config_topic: String,
    /// `offset.storage.topic`.
    pub offset_topic: String,
    /// `status.storage.topic`.
    pub status_topic: String,
    /// This worker's id in statuses (its REST address, `127.0.0.1:8083`).
    pub worker_id: String,
    /// `key.converter` and its `key.converter.*` settings, for connectors that set none.
    pub key_converter: Config,
    /// `value.converter` and its settings.
    pub value_converter: Config,
    /// `offset.flush.interval.ms`: how often tasks commit source offsets.
    pub offset_flush_interval: Duration,
    /// The schema registry that registry converters (`AvroConverter`) use when their
    /// settings name none (`brook serve` sets its own).
    pub schema_registry_url: Option<String>,
    /// `exactly.once.source.support=enabled`: source tasks write their records and offsets
    /// in transactions (KIP-618), so a crash neither loses nor repeats a record for
    /// read_committed consumers. Off by default, as in Kafka (it needs transactions).
    pub exactly_once_source: bool,
}

impl WorkerConfig {
    /// A worker of group `connect-cluster` with Kafka Connect's topic names, keys as strings
    /// and values as JSON without schemas.
    pub fn new(cluster: ClusterSettings, worker_id: impl Into<String>) -> Self {
        WorkerConfig {
            cluster,
            group_id: "connect-cluster".to_string(),
            config_topic: "connect-configs".to_string(),
            offset_topic: "connect-offsets".to_string(),
            status_topic: "connect-status".to_string(),
            worker_id: worker_id.into(),
            key_converter: Config::from([(
                "key.converter".to_string(),
                "org.apache.kafka.connect.storage.StringConverter".to_string(),
            )]),
            value_converter: Config::from([
                (
                    "value.converter".to_string(),
                    "org.apache.kafka.connect.json.JsonConverter".to_string(),
                ),
                (
                    "value.converter.schemas.enable".to_string(),
                    "false".to_string(),
                ),
            ]),
            offset_flush_interval: Duration::from_secs(5),
            schema_registry_url: None,
            exactly_once_source: false,
        }
    }
}

/// What went wrong, with the HTTP status the REST API answers with.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct WorkerError {
    /// 400, 404, 409, 500.
    pub status: u16,
    /// Kafka Connect's message.
    pub message: String,
}

impl WorkerError {
    fn new(status: u16, message: impl Into<String>) -> Self {
        WorkerError {
            status,
            message: message.into(),
        }
    }

    fn not_found(name: &str) -> Self {
        Self::new(404, format!("Connector {name} not found"))
    }
}

/// What runs here for one connector.
struct Running {
    config: Config,
    tasks_config: Vec<Config>,
    target: TargetState,
    /// The connector's status, when the connector is assigned here.
    status: Option<Status>,
    /// Its tasks that run here, by id.
    tasks: BTreeMap<usize, TaskHandle>,
}

impl Running {
    /// Stops every task here; `unassign` shows them UNASSIGNED (they move or wait).
    fn stop_tasks(&mut self, unassign: bool) {
        for (_, mut t) in std::mem::take(&mut self.tasks) {
            if unassign {
                t.unassign();
            } else {
                t.stop();
            }
        }
    }
}

struct State {
    log: ConfigLog,
    /// The config topic's end when this worker's assignment was last revoked: membership
    /// records before it belong to an earlier generation of the group.
    revoked_at: i64,
    /// What runs on this worker.
    running: BTreeMap<String, Running>,
}

/// A Connect worker.
pub struct Worker {
    config: WorkerConfig,
    /// Writes the config and status topics.
    producer: FutureProducer<Quiet>,
    statuses: StatusWriter,
    status_reader: StatusReader,
    state: Mutex<State>,
    applied: Condvar,
    stop: AtomicBool,
    follower: Mutex<Option<JoinHandle<()>>>,
    membership: Mutex<Option<Membership>>,
    cluster_id: String,
}

impl Worker {
    /// Creates the internal topics when missing, reads the config topic to its end, joins the
    /// worker group, and from then on runs what the group assigns to it.
    pub fn start(config: WorkerConfig) -> Result<Arc<Worker>, WorkerError> {
        let fail = |e: &dyn std::fmt::Display| WorkerError::new(500, e.to_string());
        // Kafka Connect's internal topics; this also fails fast when the cluster is unreachable.
        ensure_topics(
            &config.cluster,
            &[
                (&config.config_topic, 1, Some("compact"), 3),
                (&config.offset_topic, 25, Some("compact"), 3),
                (&config.status_topic, 5, Some("compact"), 3),
            ],
        )
        .map_err(|e| WorkerError::new(500, e))?;
        let admin: AdminClient<Quiet> = config.cluster.create(&[], Quiet).map_err(|e| fail(&e))?;
        let cluster_id = admin
            .inner()
            .fetch_cluster_id(config.cluster.timeout)
            .unwrap_or_default();
        let producer: FutureProducer<Quiet> = config
            .cluster
            .create(
                &[
                    ("enable.idempotence", "true"),
                    ("linger.ms", "0"),
                    // As the tasks' producers: one key, one partition of the offsets topic.
                    ("partitioner", "murmur2_random"),
                ],
                Quiet,
            )
            .map_err(|e| fail(&e))?;
        let status_reader = StatusReader::start(&config).map_err(|e| fail(&e))?;
        let worker = Arc::new(Worker {
            statuses: StatusWriter::new(producer.clone(), &config.status_topic),
            status_reader,
            config,
            producer,
            state: Mutex::new(State {
                log: ConfigLog::new(),
                revoked_at: i64::MAX,
                running: BTreeMap::new(),
            }),
            applied: Condvar::new(),
            stop: AtomicBool::new(false),
            follower: Mutex::new(None),
            membership: Mutex::new(None),
            cluster_id,
        });
        let consumer: BaseConsumer<Quiet> = worker
            .config
            .cluster
            .create(
                &[
                    (
                        "group.id",
                        &format!("{}-configs-reader", worker.config.group_id),
                    ),
                    ("enable.auto.commit", "false"),
                    ("auto.offset.reset", "earliest"),
                    ("enable.partition.eof", "false"),
                ],
                Quiet,
            )
            .map_err(|e| fail(&e))?;
        let mut assignment = rdkafka::TopicPartitionList::new();
        assignment
            .add_partition_offset(&worker.config.config_topic, 0, rdkafka::Offset::Beginning)
            .map_err(|e| fail(&e))?;
        consumer.assign(&assignment).map_err(|e| fail(&e))?;
        let (_, end) = consumer
            .fetch_watermarks(
                &worker.config.config_topic,
                0,
                worker.config.cluster.timeout,
            )
            .map_err(|e| fail(&e))?;
        worker.lock().revoked_at = end;
        let follower = worker.clone();
        let handle = std::thread::Builder::new()
            .name("connect-configs".into())
            .spawn(move || follower.follow(consumer))
            .map_err(|e| fail(&e))?;
        *worker.follower.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
        if !worker.wait_applied(end, Duration::from_secs(30)) {
            return Err(WorkerError::new(500, "timed out reading the config topic"));
        }
        let weak: Weak<Worker> = Arc::downgrade(&worker);
        let membership = Membership::join(
            &worker.config.cluster,
            &worker.config.group_id,
            &worker.config.config_topic,
            &worker.config.worker_id,
            move |event| {
                if let Some(w) = weak.upgrade() {
                    w.on_group_event(event);
                }
            },
        )
        .map_err(|e| WorkerError::new(500, e))?;
        *worker.membership.lock().unwrap_or_else(|p| p.into_inner()) = Some(membership);
        Ok(worker)
    }

    /// The cluster id (for `GET /`).
    pub fn kafka_cluster_id(&self) -> &str {
        &self.cluster_id
    }

    /// The worker's settings.
    pub fn config(&self) -> &WorkerConfig {
        &self.config
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn follow(self: Arc<Self>, consumer: BaseConsumer<Quiet>) {
        while !self.stop.load(Ordering::Acquire) {
            let mut batch = Vec::new();
            if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
                batch.push((
                    m.offset(),
                    m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
                    m.payload()
                        .and_then(|p| serde_json::from_slice::<Json>(p).ok()),
                ));
                while let Some(Ok(m)) = consumer.poll(Duration::ZERO) {
                    batch.push((
                        m.offset(),
                        m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
                        m.payload()
                            .and_then(|p| serde_json::from_slice::<Json>(p).ok()),
                    ));
                    if batch.len() >= 1000 {
                        break;
                    }
                }
            }
            if !batch.is_empty() {
                let mut state = self.lock();
                for (offset, key, value) in batch {
                    match key {
                        Some(key) => state.log.apply(offset, &key, value),
                        None => state.log.applied = offset + 1,
                    }
                }
                drop(state);
                self.reconcile();
                self.applied.notify_all();
            } else {
                // Nothing new: the position is still worth announcing (an empty topic).
                if let Ok(position) = consumer.position() {
                    if let Some(rdkafka::Offset::Offset(o)) =
                        position.elements().first().map(|e| e.offset())
                    {
                        let mut state = self.lock();
                        if o > state.log.applied {
                            state.log.applied = o;
                        }
                        drop(state);
                        self.applied.notify_all();
                    }
                }
            }
        }
    }

    /// Waits until the config topic is applied up to `end` (exclusive).
    fn wait_applied(&self, end: i64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        while state.log.applied < end {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .applied
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }

    /// Writes records to the config topic and waits until they are applied.
    fn write_configs(&self, records: &[(String, Option<Json>)]) -> Result<(), WorkerError> {
        let mut last = -1;
        for (key, value) in records {
            let payload = value.as_ref().map(Json::to_string);
            last = self.produce_sync(&self.config.config_topic, key, payload.as_deref())?;
        }
        if !self.wait_applied(last + 1, Duration::from_secs(30)) {
            return Err(WorkerError::new(
                500,
                "timed out waiting for the config topic",
            ));
        }
        Ok(())
    }

    /// Produces one record and waits for its offset.
    fn produce_sync(
        &self,
        topic: &str,
        key: &str,
        payload: Option<&str>,
    ) -> Result<i64, WorkerError> {
        let mut record = FutureRecord::<str, str>::to(topic).key(key);
        if let Some(p) = payload {
            record = record.payload(p);
        }
        let delivered = block_on(self.producer.send(record, Duration::from_secs(10)))
            .map_err(|(e, _)| WorkerError::new(500, format!("cannot write to {topic}: {e}")))?;
        Ok(delivered.offset)
    }

    /// The connectors' names.
    pub fn connectors(&self) -> Vec<String> {
        self.lock().log.connectors.keys().cloned().collect()
    }

    /// One connector.
    pub fn connector(&self, name: &str) -> Result<ConnectorInfo, WorkerError> {
        self.lock()
            .log
            .connectors
            .get(name)
            .cloned()
            .ok_or_else(|| WorkerError::not_found(name))
    }

    /// Creates (or, with `allow_update`, reconfigures) a connector; returns whether it was
    /// created.
    pub fn put_connector(
        &self,
        name: &str,
        mut config: Config,
        allow_update: bool,
        initial: Option<TargetState>,
    ) -> Result<bool, WorkerError> {
        if name.is_empty() || name.contains('/') {
            return Err(WorkerError::new(
                400,
                format!("Connector name is invalid: '{name}'"),
            ));
        }
        if config.get("name").is_some_and(|n| n != name) {
            return Err(WorkerError::new(
                400,
                "Connector name configuration (name) doesn't match connector name in the URL",
            ));
        }
        config.insert("name".to_string(), name.to_string());
        let exists = self.lock().log.connectors.contains_key(name);
        if exists && !allow_update {
            return Err(WorkerError::new(
                409,
                format!("Connector {name} already exists"),
            ));
        }
        let class = config.get("connector.class").cloned().ok_or_else(|| {
            WorkerError::new(
                400,
                "Connector config {…} contains no connector type: connector.class is required",
            )
        })?;
        let plugin = plugin::plugin(&class).ok_or_else(|| {
            WorkerError::new(
                400,
                format!(
                    "Failed to find any class that implements Connector and which name matches {class}, available connectors are: {}",
                    plugin::plugins().iter().map(|p| p.class()).collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
        let errors = validate_all(plugin.as_ref(), &config, &self.config);
        if !errors.is_empty() {
            let count = errors.len();
            let detail: Vec<String> = errors
                .iter()
                .map(|(k, e)| format!("Invalid value for configuration {k}: {e}"))
                .collect();
            return Err(WorkerError::new(
                400,
                format!(
                    "Connector configuration is invalid and contains the following {count} error(s):\n{}\nYou can also find the above list of errors at the endpoint `/connector-plugins/{{connectorType}}/config/validate`",
                    detail.join("\n")
                ),
            ));
        }
        let mut records = Vec::new();
        let initial = initial.filter(|_| !exists);
        if let Some(t) = initial {
            records.push((format!("target-state-{name}"), Some(t.to_json())));
        }
        records.push((
            format!("connector-{name}"),
            Some(json!({ "properties": config })),
        ));
        // A stopped connector has no tasks (KIP-875).
        let stopped = initial.or_else(|| self.connector(name).ok().map(|c| c.target))
            == Some(TargetState::Stopped);
        let tasks = if stopped {
            Vec::new()
        } else {
            task_configs(plugin.as_ref(), &config)?
        };
        records.extend(task_records(name, &tasks));
        self.write_configs(&records)?;
        Ok(!exists)
    }

    /// Deletes a connector: its tasks stop; its config and target state are tombstoned.
    pub fn delete_connector(&self, name: &str) -> Result<(), WorkerError> {
        let info = self.connector(name)?;
        self.write_configs(&[
            (format!("connector-{name}"), None),
            (format!("target-state-{name}"), None),
        ])?;
        // Its statuses go too.
        self.statuses.write(&status::connector_key(name), None);
        for t in 0..info.tasks.len() {
            self.statuses.write(&status::task_key(name, t), None);
        }
        let _ = self.producer.flush(Duration::from_secs(10));
        Ok(())
    }

    /// Pauses, resumes or stops a connector. Stopping empties its task configs, and
    /// starting it again generates them anew (KIP-875).
    pub fn set_target(&self, name: &str, target: TargetState) -> Result<(), WorkerError> {
        let info = self.connector(name)?;
        let mut records = vec![(format!("target-state-{name}"), Some(target.to_json()))];
        if target == TargetState::Stopped {
            records.extend(task_records(name, &[]));
        } else if info.target == TargetState::Stopped {
            let class = info
                .config
                .get("connector.class")
                .cloned()
                .unwrap_or_default();
            let plugin = plugin::plugin(&class)
                .ok_or_else(|| WorkerError::new(400, format!("no connector class {class}")))?;
            records.extend(task_records(
                name,
                &task_configs(plugin.as_ref(), &info.config)?,
            ));
        }
        self.write_configs(&records)
    }

    /// Restarts a connector and, with `include_tasks`, its tasks (with `only_failed`, only
    /// those that failed), on whichever workers run them.
    pub fn restart(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> Result<(), WorkerError> {
        self.connector(name)?;
        let (key, value) = Restart::Connector {
            name: name.to_string(),
            include_tasks,
            only_failed,
        }
        .record();
        self.write_configs(&[(key, Some(value))])
    }

    /// Restarts one task, on whichever worker runs it.
    pub fn restart_task(&self, name: &str, task: usize) -> Result<(), WorkerError> {
        let info = self.connector(name)?;
        if task >= info.tasks.len() {
            return Err(WorkerError::new(
                404,
                format!("Task {name}-{task} not found"),
            ));
        }
        let (key, value) = Restart::Task {
            name: name.to_string(),
            task,
        }
        .record();
        self.write_configs(&[(key, Some(value))])
    }

    /// The connector's status and its tasks': what runs here as it is now, what runs
    /// elsewhere as its worker last wrote it to the status topic.
    pub fn status(&self, name: &str) -> Result<(Status, Vec<Status>, &'static str), WorkerError> {
        let state = self.lock();
        let info = state
            .log
            .connectors
            .get(name)
            .ok_or_else(|| WorkerError::not_found(name))?;
        let running = state.running.get(name);
        let unassigned = |task: Option<usize>| Status {
            state: "UNASSIGNED".to_string(),
            trace: None,
            worker_id: state
                .log
                .owner(name, task)
                .unwrap_or(&self.config.worker_id)
                .to_string(),
        };
        let connector = running
            .and_then(|r| r.status.clone())
            .or_else(|| self.status_reader.get(&status::connector_key(name)))
            .unwrap_or_else(|| unassigned(None));
        let tasks = (0..info.tasks.len())
            .map(|t| {
                running
                    .and_then(|r| r.tasks.get(&t))
                    .map(TaskHandle::status)
                    .or_else(|| self.status_reader.get(&status::task_key(name, t)))
                    .unwrap_or_else(|| unassigned(Some(t)))
            })
            .collect();
        Ok((connector, tasks, info.kind))
    }

    /// A connector's offsets (KIP-875): a source's from the offsets topic, a sink's from its
    /// consumer group.
    pub fn offsets(&self, name: &str) -> Result<Vec<(Json, Json)>, WorkerError> {
        let info = self.connector(name)?;
        if info.kind == "sink" {
            offsets::sink_offsets(&self.config, name, &info.config)
                .map_err(|e| WorkerError::new(500, e))
        } else {
            OffsetStore::read(&self.config, name)
                .map(|s| s.entries())
                .map_err(|e| WorkerError::new(500, e.0))
        }
    }

    /// Alters a stopped connector's offsets (`PATCH`: a `None` offset resets that partition),
    /// or with `None` resets them all (`DELETE`).
    pub fn alter_offsets(
        &self,
        name: &str,
        changes: Option<Vec<(Json, Option<Json>)>>,
    ) -> Result<(), WorkerError> {
        let info = self.connector(name)?;
        if info.target != TargetState::Stopped || !info.tasks.is_empty() {
            return Err(WorkerError::new(
                400,
                format!(
                    "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
                ),
            ));
        }
        let bad = |m: String| WorkerError::new(400, m);
        if info.kind == "sink" {
            let Some(changes) = changes else {
                return offsets::delete_sink_group(&self.config, name)
                    .map_err(|e| WorkerError::new(500, e));
            };
            let mut commits = Vec::new();
            for (partition, offset) in changes {
                let (Some(topic), Some(p)) = (
                    partition["kafka_topic"].as_str(),
                    partition["kafka_partition"].as_i64(),
                ) else {
                    return Err(bad(format!(
                        "The partition {partition} must have the keys kafka_topic (a string) and kafka_partition (an integer)"
                    )));
                };
                let Some(offset) = offset else {
                    return Err(bad(format!(
                        "Resetting the offset of one partition of a sink connector is not supported by Brook Connect; DELETE /connectors/{name}/offsets resets all of them"
                    )));
                };
                let Some(o) = offset["kafka_offset"].as_i64().filter(|o| *o >= 0) else {
                    return Err(bad(format!(
                        "The offset {offset} must have the key kafka_offset (a non-negative integer)"
                    )));
                };
                commits.push((topic.to_string(), p as i32, o));
            }
            return offsets::commit_sink_offsets(&self.config, name, &commits)
                .map_err(|e| WorkerError::new(500, e));
        }
        let changes = match changes {
            Some(c) => c,
            None => OffsetStore::read(&self.config, name)
                .map_err(|e| WorkerError::new(500, e.0))?
                .entries()
                .into_iter()
                .map(|(p, _)| (p, None))
                .collect(),
        };
        for (partition, offset) in &changes {
            if partition.is_null() {
                return Err(bad("Source partitions may not be null".to_string()));
            }
            let payload = offset.as_ref().map(Json::to_string);
            self.produce_sync(
                &self.config.offset_topic,
                &offsets::source_key(name, partition),
                payload.as_deref(),
            )?;
        }
        Ok(())
    }

    /// The topics a connector has used (KIP-558).
    pub fn active_topics(&self, name: &str) -> Result<Vec<String>, WorkerError> {
        self.connector(name)?;
        Ok(self.status_reader.active_topics(name))
    }

    /// Forgets a connector's active topics.
    pub fn reset_active_topics(&self, name: &str) -> Result<(), WorkerError> {
        for topic in self.active_topics(name)? {
            self.statuses
                .write_json(&status::topic_key(&topic, name), None);
        }
        let _ = self.producer.flush(Duration::from_secs(10));
        Ok(())
    }

    /// Stops every task, leaves the group and stops following the config topic (the
    /// connectors stay configured, for this worker's next start or the others).
    pub fn shutdown(&self) {
        let running = std::mem::take(&mut self.lock().running);
        for (_, mut r) in running {
            r.stop_tasks(true);
        }
        if let Some(m) = self
            .membership
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            m.leave();
        }
        self.stop.store(true, Ordering::Release);
        if let Some(h) = self
            .follower
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            let _ = h.join();
        }
        self.status_reader.stop();
        let _ = self.producer.flush(Duration::from_secs(10));
    }

    /// A rebalance of the worker group.
    fn on_group_event(self: Arc<Self>, event: GroupEvent) {
        match event {
            GroupEvent::Revoked => {
                // Until the leader publishes the new membership, nothing runs here.
                let end = self
                    .producer
                    .client()
                    .fetch_watermarks(&self.config.config_topic, 0, Duration::from_secs(10))
                    .map(|(_, high)| high)
                    .unwrap_or(i64::MAX);
                self.lock().revoked_at = end;
                tracing::info!(worker = %self.config.worker_id, "worker group rebalance: tasks stopped");
                self.reconcile();
            }
            GroupEvent::Assigned { leader: true } => {
                let worker = self.clone();
                let _ = std::thread::Builder::new()
                    .name("connect-leader".into())
                    .spawn(move || worker.publish_members());
            }
            GroupEvent::Assigned { leader: false } => {}
        }
    }

    /// As the group's leader: writes the membership to the config topic.
    fn publish_members(&self) {
        let Some(members) = self
            .membership
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .and_then(|m| m.members(Duration::from_secs(10)))
        else {
            return;
        };
        tracing::info!(?members, "worker group leader: publishing the membership");
        let value = json!({ "members": members, "leader": self.config.worker_id });
        // Until it is written no worker runs anything: a failure is retried a few times.
        for attempt in 1..=5 {
            match self.write_configs(&[(MEMBERS_KEY.to_string(), Some(value.clone()))]) {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(error = %e, attempt, "cannot publish the worker group's membership");
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
        }
    }

    /// Makes what runs here match the log: the connectors and tasks assigned to this worker,
    /// in their target states; then carries out the restarts read.
    fn reconcile(&self) {
        let mut guard = self.lock();
        let state = &mut *guard;
        let me = self.config.worker_id.as_str();
        // What the log assigns here (nothing between a revoke and the next membership).
        let mut desired: BTreeMap<String, (bool, BTreeSet<usize>)> = BTreeMap::new();
        let active = state.log.members_offset >= state.revoked_at;
        if active {
            for (unit, worker) in &state.log.assignment {
                if worker == me && !state.log.pending_tasks.contains_key(&unit.connector) {
                    let entry = desired.entry(unit.connector.clone()).or_default();
                    match unit.task {
                        None => entry.0 = true,
                        Some(t) => {
                            entry.1.insert(t);
                        }
                    }
                }
            }
        }
        let names: Vec<String> = state.running.keys().cloned().collect();
        for name in names {
            let info = state.log.connectors.get(&name);
            // A connector whose new task configs are not all read yet (no commit record)
            // stays as it runs until they are: a reconfiguration restarts its tasks once.
            // Not across a revoke: then everything stops.
            if active && info.is_some() && state.log.pending_tasks.contains_key(&name) {
                continue;
            }
            let r = state.running.get_mut(&name).expect("listed");
            let changed = info.is_none_or(|i| r.config != i.config || r.tasks_config != i.tasks);
            match desired.get(&name) {
                Some((owns, tasks)) if !changed => {
                    for id in r.tasks.keys().copied().collect::<Vec<_>>() {
                        if !tasks.contains(&id) {
                            if let Some(mut t) = r.tasks.remove(&id) {
                                t.unassign();
                            }
                        }
                    }
                    if !owns {
                        r.status = None;
                    }
                }
                _ => {
                    let mut r = state.running.remove(&name).expect("listed");
                    // Deleted: its statuses are tombstoned. Moved away: UNASSIGNED until
                    // its next worker starts it.
                    r.stop_tasks(info.is_some() && !desired.contains_key(&name));
                }
            }
        }
        for (name, (owns, tasks)) in desired {
            let Some(info) = state.log.connectors.get(&name) else {
                continue;
            };
            let target = info.target;
            let r = state
                .running
                .entry(name.clone())
                .or_insert_with(|| Running {
                    config: info.config.clone(),
                    tasks_config: info.tasks.clone(),
                    target,
                    status: None,
                    tasks: BTreeMap::new(),
                });
            if r.target != target {
                r.target = target;
                if target == TargetState::Stopped {
                    r.stop_tasks(false);
                } else {
                    for t in r.tasks.values() {
                        t.set_target(target);
                    }
                }
            }
            if target != TargetState::Stopped {
                for id in tasks {
                    r.tasks.entry(id).or_insert_with(|| {
                        TaskHandle::spawn(
                            &name,
                            id,
                            &info.tasks[id],
                            &info.config,
                            &self.config,
                            target,
                            &self.statuses,
                        )
                    });
                }
            }
            if owns {
                let shown = status_name(target);
                if r.status.as_ref().is_none_or(|s| s.state != shown) {
                    let status = Status {
                        state: shown.to_string(),
                        trace: None,
                        worker_id: me.to_string(),
                    };
                    self.statuses
                        .write(&status::connector_key(&name), Some(&status));
                    r.status = Some(status);
                }
            }
        }
        for restart in std::mem::take(&mut state.log.restarts) {
            self.carry_out(state, restart);
        }
    }

    /// A restart, for what of it runs here.
    fn carry_out(&self, state: &mut State, restart: Restart) {
        let (name, include_tasks, only_failed, only_task) = match restart {
            Restart::Connector {
                name,
                include_tasks,
                only_failed,
            } => (name, include_tasks, only_failed, None),
            Restart::Task { name, task } => (name, true, false, Some(task)),
        };
        let (Some(info), Some(r)) = (
            state.log.connectors.get(&name),
            state.running.get_mut(&name),
        ) else {
            return;
        };
        if only_task.is_none() {
            if let Some(status) = r.status.as_mut() {
                if !only_failed || status.state == "FAILED" {
                    status.state = status_name(r.target).to_string();
                    status.trace = None;
                    self.statuses
                        .write(&status::connector_key(&name), Some(status));
                }
            }
        }
        if !include_tasks || r.target == TargetState::Stopped {
            return;
        }
        for (&id, t) in r.tasks.iter_mut() {
            if only_task.is_some_and(|o| o != id) {
                continue;
            }
            if !only_failed || t.status().state == "FAILED" {
                let mut restarting = t.status();
                restarting.state = "RESTARTING".to_string();
                restarting.trace = None;
                self.statuses
                    .write(&status::task_key(&name, id), Some(&restarting));
                t.stop();
                *t = TaskHandle::spawn(
                    &name,
                    id,
                    &info.tasks[id],
                    &info.config,
                    &self.config,
                    r.target,
                    &self.statuses,
                );
            }
        }
    }
}

/// Creates the topics that are missing: (name, partitions, cleanup policy, replication
/// factor — at most the cluster's broker count, so one broker is enough to develop on).
pub(crate) fn ensure_topics(
    cluster: &ClusterSettings,
    topics: &[(&str, i32, Option<&str>, i32)],
) -> Result<(), String> {
    let admin: AdminClient<Quiet> = cluster.create(&[], Quiet).map_err(|e| e.to_string())?;
    let metadata = cluster
        .metadata(admin.inner(), None)
        .map_err(|e| e.to_string())?;
    let brokers = i32::try_from(metadata.brokers().len()).unwrap_or(1).max(1);
    let missing: Vec<NewTopic<'_>> = topics
        .iter()
        .filter(|(name, ..)| {
            !metadata
                .topics()
                .iter()
                .any(|t| t.name() == *name && !t.partitions().is_empty())
        })
        .map(|(name, partitions, cleanup, replication)| {
            let topic = NewTopic::new(
                name,
                *partitions,
                TopicReplication::Fixed((*replication).clamp(1, brokers)),
            );
            match cleanup {
                Some(policy) => topic.set("cleanup.policy", policy),
                None => topic,
            }
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    for r in block_on(admin.create_topics(&missing, &options)).map_err(|e| e.to_string())? {
        match r {
            Ok(_) | Err((_, rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((t, code)) => return Err(format!("cannot create topic {t}: {code}")),
        }
    }
    Ok(())
}

/// The converter for `side` ("key" or "value") and its class: the connector's
/// `<side>.converter` with its `<side>.converter.*` settings, else the worker's; a registry
/// converter without `schema.registry.url` uses the worker's registry.
pub(crate) fn converter_for(
    side: &str,
    connector: &Config,
    worker: &WorkerConfig,
) -> Result<(Box<dyn converters::Converter>, String), String> {
    let key = format!("{side}.converter");
    let from = if connector.contains_key(&key) {
        connector
    } else if side == "key" {
        &worker.key_converter
    } else {
        &worker.value_converter
    };
    let class = from.get(&key).cloned().unwrap_or_default();
    let prefix = format!("{key}.");
    let mut settings: Config = from
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|s| (s.to_string(), v.clone())))
        .collect();
    if let Some(url) = &worker.schema_registry_url {
        settings
            .entry("schema.registry.url".to_string())
            .or_insert_with(|| url.clone());
    }
    let converter = converters::converter(&class, &settings, side == "key").map_err(|e| e.0)?;
    Ok((converter, class))
}

/// A connector's task configs, `tasks.max` of them at most.
fn task_configs(plugin: &dyn Plugin, config: &Config) -> Result<Vec<Config>, WorkerError> {
    let max_tasks = config
        .get("tasks.max")
        .and_then(|t| t.trim().parse::<usize>().ok())
        .unwrap_or(1);
    plugin
        .task_configs(config, max_tasks)
        .map_err(|e| WorkerError::new(400, e.0))
}

/// The config-topic records of a connector's task configs and their commit.
fn task_records(name: &str, tasks: &[Config]) -> Vec<(String, Option<Json>)> {
    let mut records: Vec<(String, Option<Json>)> = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("task-{name}-{i}"), Some(json!({ "properties": t }))))
        .collect();
    records.push((
        format!("commit-{name}"),
        Some(json!({ "tasks": tasks.len() })),
    ));
    records
}

/// The state a connector shows for its target state.
fn status_name(target: TargetState) -> &'static str {
    match target {
        TargetState::Started => "RUNNING",
        TargetState::Paused => "PAUSED",
        TargetState::Stopped => "STOPPED",
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

/// Every check of a connector configuration: the worker's (converters) and the plugin's.
pub fn validate_all(
    plugin: &dyn Plugin,
    config: &Config,
    worker: &WorkerConfig,
) -> Vec<(String, String)> {
    let mut errors = plugin::validate(plugin, config);
    let sink = plugin.kind() == plugin::PluginKind::Sink;
    if let Err(e) = crate::transforms::Transforms::from_config(config) {
        errors.extend(e);
    }
    errors.extend(errors::validate(config, sink));
    if !sink {
        if let Some(b) = config.get("transaction.boundary") {
            if !matches!(b.trim(), "poll" | "interval") {
                errors.push((
                    "transaction.boundary".to_string(),
                    format!("Invalid value {b} for configuration transaction.boundary: Brook Connect supports poll and interval"),
                ));
            }
        }
        if config
            .get("exactly.once.support")
            .is_some_and(|s| s.trim() == "required")
            && !worker.exactly_once_source
        {
            errors.push((
                "exactly.once.support".to_string(),
                "This worker does not have exactly-once source support enabled (exactly.once.source.support=enabled)".to_string(),
            ));
        }
    }
    if sink {
        let set = |k: &str| config.get(k).is_some_and(|v| !v.trim().is_empty());
        match (set("topics"), set("topics.regex")) {
            (false, false) => errors.push((
                "topics".to_string(),
                "Must configure one of topics or topics.regex".to_string(),
            )),
            (true, true) => errors.push((
                "topics".to_string(),
                "topics and topics.regex are mutually exclusive options, but both are set."
                    .to_string(),
            )),
            _ => {}
        }
    }
    for side in ["key", "value"] {
        if config.contains_key(&format!("{side}.converter")) {
            if let Err(e) = converter_for(side, config, worker) {
                errors.push((format!("{side}.converter"), e));
            }
        }
    }
    if let Some(t) = config.get("tasks.max") {
        if t.trim().parse::<usize>().map_or(true, |n| n == 0) {
            errors.push((
                "tasks.max".to_string(),
                format!("Invalid value {t} for configuration tasks.max: Value must be at least 1"),
            ));
        }
    }
    errors
}
