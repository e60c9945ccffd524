//! The worker: connector configurations, target states and task configurations live in the
//! config topic (Kafka Connect's keys and JSON values: `connector-<name>` →
//! `{"properties": {…}}`, `target-state-<name>` → `{"state": …, "state.v2": …}`,
//! `task-<name>-<n>` → `{"properties": {…}}`, `commit-<name>` → `{"tasks": n}`); a follower
//! thread reads that topic from its beginning and makes the running connectors and tasks
//! match it. Source offsets go to the offsets topic (key `["<connector>", {partition}]`,
//! value `{offset}`), statuses to the status topic (`status-connector-<name>`,
//! `status-task-<name>-<n>`).
//!
//! A write through the REST API is produced to the config topic and answered once the
//! follower has applied it, so every change goes through the log, as in a Kafka Connect
//! cluster.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use brook_client::{ClusterSettings, Quiet, block_on};
use rdkafka::Message as _;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{
    BaseRecord, DefaultProducerContext, FutureProducer, FutureRecord, Producer, ThreadedProducer,
};
use serde_json::{Value as Json, json};

use crate::converters::{self, Converter};
use crate::data::Config;
use crate::plugin::{self, ConnectError, OffsetReader, Plugin, SourceTask};

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

/// The state a connector was asked to be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetState {
    /// Running.
    Started,
    /// Tasks idle, kept.
    Paused,
    /// Tasks shut down (KIP-875).
    Stopped,
}

impl TargetState {
    fn to_json(self) -> Json {
        match self {
            TargetState::Started => json!({"state": "STARTED", "state.v2": "STARTED"}),
            TargetState::Paused => json!({"state": "PAUSED", "state.v2": "PAUSED"}),
            TargetState::Stopped => json!({"state": "PAUSED", "state.v2": "STOPPED"}),
        }
    }

    fn from_json(j: &Json) -> TargetState {
        match j["state.v2"].as_str().or(j["state"].as_str()) {
            Some("PAUSED") => TargetState::Paused,
            Some("STOPPED") => TargetState::Stopped,
            _ => TargetState::Started,
        }
    }
}

/// A connector's or task's state, as the status endpoints show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// `RUNNING`, `PAUSED`, `STOPPED`, `FAILED`, `UNASSIGNED`, `RESTARTING`.
    pub state: String,
    /// The failure, for FAILED.
    pub trace: Option<String>,
    /// The worker it runs on.
    pub worker_id: String,
}

/// A connector as the config topic describes it.
#[derive(Debug, Clone)]
pub struct ConnectorInfo {
    /// Its configuration.
    pub config: Config,
    /// Its target state.
    pub target: TargetState,
    /// Its tasks' configurations (the last committed set).
    pub tasks: Vec<Config>,
    /// `source` or `sink`.
    pub kind: &'static str,
}

/// A running task, controlled through shared flags.
struct TaskHandle {
    /// 0 run, 1 pause, 2 stop.
    control: Arc<AtomicU8>,
    status: Arc<Mutex<Status>>,
    thread: Option<JoinHandle<()>>,
}

const RUN: u8 = 0;
const PAUSE: u8 = 1;
const STOP: u8 = 2;

impl TaskHandle {
    fn stop(&mut self) {
        self.control.store(STOP, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What runs here for one connector.
struct Running {
    config: Config,
    tasks_config: Vec<Config>,
    target: TargetState,
    status: Status,
    tasks: Vec<TaskHandle>,
}

#[derive(Default)]
struct State {
    /// From the config topic.
    connectors: BTreeMap<String, ConnectorInfo>,
    /// Target states, which may come before their connector's config.
    targets: HashMap<String, TargetState>,
    /// Task configs read but not yet committed, per connector.
    pending_tasks: HashMap<String, BTreeMap<usize, Config>>,
    /// The next config-topic offset to apply.
    applied: i64,
    /// What runs on this worker.
    running: BTreeMap<String, Running>,
}

/// A Connect worker.
pub struct Worker {
    config: WorkerConfig,
    /// Writes the config and status topics.
    producer: FutureProducer<Quiet>,
    state: Mutex<State>,
    applied: Condvar,
    stop: AtomicBool,
    follower: Mutex<Option<JoinHandle<()>>>,
    cluster_id: String,
}

impl Worker {
    /// Creates the internal topics when missing, reads the config topic to its end, starts
    /// the connectors it describes, and keeps following it.
    pub fn start(config: WorkerConfig) -> Result<Arc<Worker>, WorkerError> {
        let fail = |e: &dyn std::fmt::Display| WorkerError::new(500, e.to_string());
        let admin: AdminClient<Quiet> = config.cluster.create(&[], Quiet).map_err(|e| fail(&e))?;
        let metadata = config
            .cluster
            .metadata(admin.inner(), None)
            .map_err(|e| fail(&e))?;
        let cluster_id = admin
            .inner()
            .fetch_cluster_id(config.cluster.timeout)
            .unwrap_or_default();
        let mut missing = Vec::new();
        for (topic, partitions) in [
            (&config.config_topic, 1),
            (&config.offset_topic, 25),
            (&config.status_topic, 5),
        ] {
            if !metadata
                .topics()
                .iter()
                .any(|t| t.name() == topic.as_str() && !t.partitions().is_empty())
            {
                missing.push(
                    NewTopic::new(topic, partitions, TopicReplication::Fixed(1))
                        .set("cleanup.policy", "compact"),
                );
            }
        }
        if !missing.is_empty() {
            let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
            for r in block_on(admin.create_topics(&missing, &options)).map_err(|e| fail(&e))? {
                match r {
                    Ok(_) | Err((_, rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists)) => {}
                    Err((t, code)) => {
                        return Err(WorkerError::new(
                            500,
                            format!("cannot create topic {t}: {code}"),
                        ));
                    }
                }
            }
        }
        let producer: FutureProducer<Quiet> = config
            .cluster
            .create(&[("enable.idempotence", "true"), ("linger.ms", "0")], Quiet)
            .map_err(|e| fail(&e))?;
        let worker = Arc::new(Worker {
            config,
            producer,
            state: Mutex::new(State::default()),
            applied: Condvar::new(),
            stop: AtomicBool::new(false),
            follower: Mutex::new(None),
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
        let follower = worker.clone();
        let handle = std::thread::Builder::new()
            .name("connect-configs".into())
            .spawn(move || follower.follow(consumer))
            .map_err(|e| fail(&e))?;
        *worker.follower.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
        if !worker.wait_applied(end, Duration::from_secs(30)) {
            return Err(WorkerError::new(500, "timed out reading the config topic"));
        }
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
                    if let Some(key) = key {
                        apply(&mut state, &key, value);
                    }
                    state.applied = offset + 1;
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
                        if o > state.applied {
                            state.applied = o;
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
        while state.applied < end {
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
        self.lock().connectors.keys().cloned().collect()
    }

    /// One connector.
    pub fn connector(&self, name: &str) -> Result<ConnectorInfo, WorkerError> {
        self.lock()
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
        let exists = self.lock().connectors.contains_key(name);
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
        let errors = validate_all(plugin.as_ref(), &config);
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
        let max_tasks = config
            .get("tasks.max")
            .and_then(|t| t.trim().parse::<usize>().ok())
            .unwrap_or(1);
        let tasks = plugin
            .task_configs(&config, max_tasks)
            .map_err(|e| WorkerError::new(400, e.0))?;
        let mut records = Vec::new();
        if let Some(t) = initial.filter(|_| !exists) {
            records.push((format!("target-state-{name}"), Some(t.to_json())));
        }
        records.push((
            format!("connector-{name}"),
            Some(json!({ "properties": config })),
        ));
        for (i, t) in tasks.iter().enumerate() {
            records.push((format!("task-{name}-{i}"), Some(json!({ "properties": t }))));
        }
        records.push((
            format!("commit-{name}"),
            Some(json!({ "tasks": tasks.len() })),
        ));
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
        let keys = std::iter::once(format!("status-connector-{name}"))
            .chain((0..info.tasks.len()).map(|t| format!("status-task-{name}-{t}")));
        for key in keys {
            let _ = self.produce_sync(&self.config.status_topic, &key, None);
        }
        Ok(())
    }

    /// Pauses, resumes or stops a connector.
    pub fn set_target(&self, name: &str, target: TargetState) -> Result<(), WorkerError> {
        self.connector(name)?;
        self.write_configs(&[(format!("target-state-{name}"), Some(target.to_json()))])
    }

    /// Restarts a connector and, with `include_tasks`, its tasks (with `only_failed`, only
    /// those that failed).
    pub fn restart(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> Result<(), WorkerError> {
        let info = self.connector(name)?;
        let mut state = self.lock();
        let Some(running) = state.running.get_mut(name) else {
            return Ok(());
        };
        if !only_failed || running.status.state == "FAILED" {
            running.status.state = status_name(running.target).to_string();
            running.status.trace = None;
        }
        if include_tasks && running.target != TargetState::Stopped {
            for (id, t) in running.tasks.iter_mut().enumerate() {
                let failed = t.status.lock().unwrap_or_else(|p| p.into_inner()).state == "FAILED";
                if !only_failed || failed {
                    t.stop();
                    *t = self.spawn_task(name, &info, id, running.target);
                }
            }
        }
        Ok(())
    }

    /// Restarts one task.
    pub fn restart_task(&self, name: &str, task: usize) -> Result<(), WorkerError> {
        let info = self.connector(name)?;
        let mut state = self.lock();
        let running = state
            .running
            .get_mut(name)
            .filter(|r| task < r.tasks.len())
            .ok_or_else(|| WorkerError::new(404, format!("Task {name}-{task} not found")))?;
        running.tasks[task].stop();
        running.tasks[task] = self.spawn_task(name, &info, task, running.target);
        Ok(())
    }

    /// The connector's status and its tasks'.
    pub fn status(&self, name: &str) -> Result<(Status, Vec<Status>, &'static str), WorkerError> {
        let state = self.lock();
        let info = state
            .connectors
            .get(name)
            .ok_or_else(|| WorkerError::not_found(name))?;
        let unassigned = || Status {
            state: "UNASSIGNED".to_string(),
            trace: None,
            worker_id: self.config.worker_id.clone(),
        };
        match state.running.get(name) {
            Some(r) => Ok((
                r.status.clone(),
                r.tasks
                    .iter()
                    .map(|t| t.status.lock().unwrap_or_else(|p| p.into_inner()).clone())
                    .collect(),
                info.kind,
            )),
            None => Ok((unassigned(), Vec::new(), info.kind)),
        }
    }

    /// Stops every task and the follower (the connectors stay configured for the next start).
    pub fn shutdown(&self) {
        self.stop.store(true, Ordering::Release);
        if let Some(h) = self
            .follower
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            let _ = h.join();
        }
        let running = std::mem::take(&mut self.lock().running);
        for (_, mut r) in running {
            for t in &mut r.tasks {
                t.stop();
            }
        }
        let _ = self.producer.flush(Duration::from_secs(10));
    }

    /// Makes what runs match the config topic.
    fn reconcile(&self) {
        let mut state = self.lock();
        let mut desired = state.connectors.clone();
        // A connector whose new task configs are not all read yet (no commit record) stays
        // as it runs until they are: a reconfiguration restarts its tasks once.
        desired.retain(|name, _| !state.pending_tasks.contains_key(name));
        // Gone or changed: stop.
        let names: Vec<String> = state.running.keys().cloned().collect();
        for name in names {
            if state.pending_tasks.contains_key(&name) && state.connectors.contains_key(&name) {
                continue;
            }
            let keep = desired.get(&name).is_some_and(|d| {
                let r = &state.running[&name];
                r.config == d.config && r.tasks_config == d.tasks
            });
            if !keep {
                if let Some(mut r) = state.running.remove(&name) {
                    for t in &mut r.tasks {
                        t.stop();
                    }
                }
            }
        }
        for (name, info) in desired {
            let target = info.target;
            if let Some(r) = state.running.get_mut(&name) {
                if r.target != target {
                    r.target = target;
                    r.status.state = status_name(target).to_string();
                    if target == TargetState::Stopped {
                        for t in &mut r.tasks {
                            t.stop();
                        }
                        r.tasks.clear();
                    } else if r.tasks.is_empty() {
                        r.tasks = self.start_tasks(&name, &info, target);
                    } else {
                        for t in &r.tasks {
                            t.control.store(
                                if target == TargetState::Paused {
                                    PAUSE
                                } else {
                                    RUN
                                },
                                Ordering::Release,
                            );
                        }
                    }
                    self.write_status(&format!("status-connector-{name}"), &r.status);
                }
                continue;
            }
            let tasks = if target == TargetState::Stopped {
                Vec::new()
            } else {
                self.start_tasks(&name, &info, target)
            };
            let status = Status {
                state: status_name(target).to_string(),
                trace: None,
                worker_id: self.config.worker_id.clone(),
            };
            self.write_status(&format!("status-connector-{name}"), &status);
            state.running.insert(
                name.clone(),
                Running {
                    config: info.config.clone(),
                    tasks_config: info.tasks.clone(),
                    target,
                    status,
                    tasks,
                },
            );
        }
    }

    fn write_status(&self, key: &str, status: &Status) {
        let value = json!({
            "state": status.state,
            "trace": status.trace,
            "worker_id": status.worker_id,
            "generation": 0
        })
        .to_string();
        let record = FutureRecord::<str, str>::to(&self.config.status_topic)
            .key(key)
            .payload(&value);
        // Not waited for: statuses are written in the background.
        if let Err((e, _)) = self.producer.send_result(record) {
            tracing::warn!(%e, "cannot write a status");
        }
    }

    fn start_tasks(
        &self,
        name: &str,
        info: &ConnectorInfo,
        target: TargetState,
    ) -> Vec<TaskHandle> {
        (0..info.tasks.len())
            .map(|id| self.spawn_task(name, info, id, target))
            .collect()
    }

    fn spawn_task(
        &self,
        name: &str,
        info: &ConnectorInfo,
        id: usize,
        target: TargetState,
    ) -> TaskHandle {
        let paused = target == TargetState::Paused;
        let control = Arc::new(AtomicU8::new(if paused { PAUSE } else { RUN }));
        let status = Arc::new(Mutex::new(Status {
            state: if paused { "PAUSED" } else { "RUNNING" }.to_string(),
            trace: None,
            worker_id: self.config.worker_id.clone(),
        }));
        let runner = TaskRunner {
            connector: name.to_string(),
            id,
            config: info.tasks[id].clone(),
            connector_config: info.config.clone(),
            worker: self.config.clone(),
            control: control.clone(),
            status: status.clone(),
        };
        let thread = std::thread::Builder::new()
            .name(format!("task-{name}-{id}"))
            .spawn(move || runner.run())
            .ok();
        TaskHandle {
            control,
            status,
            thread,
        }
    }
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
pub fn validate_all(plugin: &dyn Plugin, config: &Config) -> Vec<(String, String)> {
    let mut errors = plugin::validate(plugin, config);
    // Settings Kafka Connect has and Brook does not yet: refused, not ignored.
    let set = |k: &str| config.get(k).is_some_and(|v| !v.trim().is_empty());
    for (key, what) in [
        ("transforms", "Single message transforms"),
        ("predicates", "Predicates"),
        ("errors.deadletterqueue.topic.name", "Dead letter queues"),
    ] {
        if set(key) {
            errors.push((
                key.to_string(),
                format!("{what} are not built into Brook Connect yet"),
            ));
        }
    }
    if config
        .get("errors.tolerance")
        .is_some_and(|t| !t.trim().eq_ignore_ascii_case("none"))
    {
        errors.push((
            "errors.tolerance".to_string(),
            "errors.tolerance=all is not built into Brook Connect yet: a record that cannot be converted fails its task".to_string(),
        ));
    }
    if plugin.kind() == plugin::PluginKind::Sink {
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
        let key = format!("{side}.converter");
        if let Some(class) = config.get(&key) {
            if let Err(e) = converters::converter(class, &Config::new()) {
                errors.push((key, e.0));
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

/// Applies one config-topic record to the state.
fn apply(state: &mut State, key: &str, value: Option<Json>) {
    if let Some(name) = key.strip_prefix("connector-") {
        match value.as_ref().and_then(|v| v.get("properties")) {
            Some(props) => {
                let config = crate::data::config_from_json(props).unwrap_or_default();
                let kind = config
                    .get("connector.class")
                    .and_then(|c| plugin::plugin(c))
                    .map_or("unknown", |p| p.kind().name());
                let target = state
                    .targets
                    .get(name)
                    .copied()
                    .unwrap_or(TargetState::Started);
                let entry = state
                    .connectors
                    .entry(name.to_string())
                    .or_insert(ConnectorInfo {
                        config: Config::new(),
                        target,
                        tasks: Vec::new(),
                        kind,
                    });
                entry.config = config;
                entry.kind = kind;
            }
            None => {
                state.connectors.remove(name);
                state.pending_tasks.remove(name);
            }
        }
    } else if let Some(name) = key.strip_prefix("target-state-") {
        match value.as_ref() {
            Some(v) => {
                let target = TargetState::from_json(v);
                state.targets.insert(name.to_string(), target);
                if let Some(c) = state.connectors.get_mut(name) {
                    c.target = target;
                }
            }
            None => {
                state.targets.remove(name);
            }
        }
    } else if let Some(rest) = key.strip_prefix("task-") {
        if let Some((name, id)) = rest.rsplit_once('-') {
            if let (Ok(id), Some(props)) = (
                id.parse::<usize>(),
                value.as_ref().and_then(|v| v.get("properties")),
            ) {
                state
                    .pending_tasks
                    .entry(name.to_string())
                    .or_default()
                    .insert(id, crate::data::config_from_json(props).unwrap_or_default());
            }
        }
    } else if let Some(name) = key.strip_prefix("commit-") {
        let count = value
            .as_ref()
            .and_then(|v| v["tasks"].as_u64())
            .unwrap_or(0) as usize;
        let pending = state.pending_tasks.remove(name).unwrap_or_default();
        if let Some(c) = state.connectors.get_mut(name) {
            c.tasks = (0..count)
                .filter_map(|i| pending.get(&i).cloned())
                .collect();
        }
    }
}

/// Reads the offsets topic once: the last offset of each (connector, partition).
struct OffsetStore {
    offsets: HashMap<String, Json>,
}

impl OffsetStore {
    fn read(worker: &WorkerConfig, connector: &str) -> Result<OffsetStore, ConnectError> {
        let fail = |e: &dyn std::fmt::Display| {
            ConnectError::new(format!("cannot read the offsets topic: {e}"))
        };
        let consumer: BaseConsumer<Quiet> = worker
            .cluster
            .create(
                &[
                    ("enable.auto.commit", "false"),
                    ("group.id", "connect-offsets-reader"),
                ],
                Quiet,
            )
            .map_err(|e| fail(&e))?;
        let metadata = worker
            .cluster
            .metadata(consumer.client(), Some(&worker.offset_topic))
            .map_err(|e| fail(&e))?;
        let partitions = metadata
            .topics()
            .first()
            .map_or(0, |t| t.partitions().len()) as i32;
        let mut ends = HashMap::new();
        let mut assignment = rdkafka::TopicPartitionList::new();
        for p in 0..partitions {
            let (_, high) = consumer
                .fetch_watermarks(&worker.offset_topic, p, worker.cluster.timeout)
                .map_err(|e| fail(&e))?;
            if high > 0 {
                ends.insert(p, high);
                assignment
                    .add_partition_offset(&worker.offset_topic, p, rdkafka::Offset::Beginning)
                    .map_err(|e| fail(&e))?;
            }
        }
        let mut offsets = HashMap::new();
        if !ends.is_empty() {
            consumer.assign(&assignment).map_err(|e| fail(&e))?;
            let deadline = Instant::now() + Duration::from_secs(30);
            while !ends.is_empty() && Instant::now() < deadline {
                if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
                    let key: Option<Json> = m.key().and_then(|k| serde_json::from_slice(k).ok());
                    if let Some(Json::Array(parts)) = key {
                        if parts.first().and_then(Json::as_str) == Some(connector) {
                            let value = m
                                .payload()
                                .and_then(|p| serde_json::from_slice::<Json>(p).ok());
                            let k = parts.get(1).cloned().unwrap_or(Json::Null).to_string();
                            match value {
                                Some(v) => offsets.insert(k, v),
                                None => offsets.remove(&k),
                            };
                        }
                    }
                    if ends
                        .get(&m.partition())
                        .is_some_and(|end| m.offset() + 1 >= *end)
                    {
                        ends.remove(&m.partition());
                    }
                }
            }
        }
        Ok(OffsetStore { offsets })
    }
}

impl OffsetReader for OffsetStore {
    fn offset(&self, partition: &Json) -> Option<Json> {
        self.offsets.get(&partition.to_string()).cloned()
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
}

impl TaskRunner {
    fn set_status(&self, state: &str, trace: Option<String>) {
        let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
        s.state = state.to_string();
        s.trace = trace;
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

    fn converter(&self, side: &str) -> Result<Box<dyn Converter>, ConnectError> {
        let key = format!("{side}.converter");
        let (class, settings_from) = match self.connector_config.get(&key) {
            Some(c) => (c.clone(), &self.connector_config),
            None => (
                if side == "key" {
                    &self.worker.key_converter
                } else {
                    &self.worker.value_converter
                }
                .get(&key)
                .cloned()
                .unwrap_or_default(),
                if side == "key" {
                    &self.worker.key_converter
                } else {
                    &self.worker.value_converter
                },
            ),
        };
        let prefix = format!("{key}.");
        let settings: Config = settings_from
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|s| (s.to_string(), v.clone())))
            .collect();
        converters::converter(&class, &settings).map_err(|e| ConnectError::new(e.0))
    }

    /// A sink task: a consumer in the group `connect-<name>` reads the connector's topics;
    /// records are converted and handed to the task; offsets are committed only after the
    /// task's `flush` succeeded (every `offset.flush.interval`, and on pause and stop).
    fn run_sink(&self, plugin: &dyn Plugin) -> Result<(), ConnectError> {
        let mut task = plugin.sink_task(&self.config)?;
        task.start()?;
        let (key_converter, value_converter) = (self.converter("key")?, self.converter("value")?);
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
                let (key_schema, key) = key_converter.decode(m.topic(), m.key()).map_err(|e| {
                    ConnectError::new(format!(
                        "the key at {}-{}@{}: {}",
                        m.topic(),
                        m.partition(),
                        m.offset(),
                        e.0
                    ))
                })?;
                let (value_schema, value) = value_converter
                    .decode(m.topic(), m.payload())
                    .map_err(|e| {
                        ConnectError::new(format!(
                            "the value at {}-{}@{}: {}",
                            m.topic(),
                            m.partition(),
                            m.offset(),
                            e.0
                        ))
                    })?;
                positions.insert((m.topic().to_string(), m.partition()), m.offset() + 1);
                batch.push(plugin::SinkRecord {
                    topic: m.topic().to_string(),
                    partition: m.partition(),
                    offset: m.offset(),
                    key_schema,
                    key,
                    value_schema,
                    value,
                    timestamp: m.timestamp().to_millis(),
                });
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
        let offsets = OffsetStore::read(&self.worker, &self.connector)?;
        task.start(&offsets)?;
        let (key_converter, value_converter) = (self.converter("key")?, self.converter("value")?);
        let producer: ThreadedProducer<DefaultProducerContext> = self
            .worker
            .cluster
            .create(
                &[
                    ("enable.idempotence", "true"),
                    ("linger.ms", "5"),
                    ("partitioner", "murmur2_random"),
                ],
                DefaultProducerContext,
            )
            .map_err(|e| ConnectError::new(e.to_string()))?;
        let mut pending: HashMap<String, (Json, Json)> = HashMap::new();
        let mut last_flush = Instant::now();
        let commit = |pending: &mut HashMap<String, (Json, Json)>| -> Result<(), ConnectError> {
            producer
                .flush(Duration::from_secs(30))
                .map_err(|e| ConnectError::new(format!("cannot flush the producer: {e}")))?;
            for (_, (partition, offset)) in pending.drain() {
                let key = json!([self.connector, partition]).to_string();
                let value = offset.to_string();
                let record = BaseRecord::<str, str>::to(&self.worker.offset_topic)
                    .key(&key)
                    .payload(&value);
                producer
                    .send(record)
                    .map_err(|(e, _)| ConnectError::new(format!("cannot commit offsets: {e}")))?;
            }
            producer
                .flush(Duration::from_secs(30))
                .map_err(|e| ConnectError::new(format!("cannot commit offsets: {e}")))
        };
        loop {
            match self.control.load(Ordering::Acquire) {
                STOP => break,
                PAUSE => {
                    if !pending.is_empty() {
                        commit(&mut pending)?;
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
                commit(&mut pending)?;
                while self.control.load(Ordering::Acquire) != STOP {
                    std::thread::sleep(Duration::from_millis(100));
                }
                break;
            };
            for r in records {
                let key = key_converter
                    .encode(&r.topic, r.key_schema.as_ref(), &r.key)
                    .map_err(|e| ConnectError::new(e.0))?;
                let value = value_converter
                    .encode(&r.topic, r.value_schema.as_ref(), &r.value)
                    .map_err(|e| ConnectError::new(e.0))?;
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
                pending.insert(
                    r.source_partition.to_string(),
                    (r.source_partition, r.source_offset),
                );
            }
            if last_flush.elapsed() >= self.worker.offset_flush_interval {
                commit(&mut pending)?;
                last_flush = Instant::now();
            }
        }
        commit(&mut pending)
    }
}
