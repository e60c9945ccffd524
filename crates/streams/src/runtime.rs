//! [`KafkaStreams`]: runs a [`Topology`] against a Kafka cluster (Brook's or any other), as
//! Kafka Streams' `KafkaStreams` does.
//!
//! - **Internal topics** are created at start, prefixed with `application.id`: each
//!   repartition topic and one compacted `<application.id>-<store>-changelog` per store, with
//!   as many partitions as the input topics (which must agree: co-partitioning).
//! - **Tasks**: one per partition number; task `p` processes partition `p` of every input
//!   and repartition topic and owns partition `p` of every changelog. The instances with the
//!   same `application.id` share the partitions through a consumer group (range assignment
//!   keeps partition `p` of all topics together); a task that moves is rebuilt from its
//!   changelogs before it processes anything.
//! - **Processing**: each stream thread (`num.stream.threads`, each a group member with its
//!   own tasks) polls, routes each record to its task, produces what
//!   the task wrote (sink topics partitioned by key with Kafka's murmur2, as the Java client
//!   does; changelog entries to the task's partition), and commits every `commit.interval.ms`.
//!   `at_least_once`: flush, then commit the consumed offsets. `exactly_once_v2`: everything a
//!   commit interval produced, and its consumed offsets, in one transaction of one
//!   transactional producer per thread (KIP-447, fenced through the group generation).
//!
//! Not yet: global tables, standby replicas, interactive queries from
//! other threads, punctuators.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use brook_client::{ClusterSettings, Quiet, RebalanceFlag};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use rdkafka::{Offset, TopicPartitionList};

use crate::metrics::StreamsMetrics;
use crate::serdes::Serde;
use crate::state::local::LocalStores;
use crate::state::query::{ReadOnlyKeyValueStore, ReadOnlyWindowStore};
use crate::state::{KeyValueStore, StoreHandle};
use crate::topology::{
    ProcessorContext, PunctuationType, RawRecord, StreamsError, TaskWires, Topology,
};

/// How records are processed when something fails (`processing.guarantee`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProcessingGuarantee {
    /// Nothing is lost; records processed since the last commit may be processed again.
    #[default]
    AtLeastOnce,
    /// Every record's effects happen once, through Kafka transactions.
    ExactlyOnceV2,
}

/// The settings of a streams application (Kafka Streams' `StreamsConfig`).
#[derive(Debug, Clone)]
pub struct StreamsConfig {
    /// `application.id`: the consumer group, the transactional id prefix and the internal
    /// topics' prefix.
    pub application_id: String,
    /// The cluster.
    pub cluster: ClusterSettings,
    /// `processing.guarantee`.
    pub processing_guarantee: ProcessingGuarantee,
    /// `commit.interval.ms` (30 s for at_least_once, 100 ms for exactly_once_v2 by default).
    pub commit_interval: Duration,
    /// `state.dir`: where persistent stores keep their local copy, under
    /// `<state.dir>/<application.id>/<task id>/` (default: `<temp dir>/brook-streams`).
    pub state_dir: PathBuf,
    /// `statestore.cache.max.bytes`: how much the record caches and pending changelog
    /// entries of all stream threads may hold before they are flushed early (10 MiB), shared
    /// evenly between the threads and their tasks.
    pub cache_max_bytes: usize,
    /// `num.stream.threads`: stream threads in this instance, each a member of the
    /// application's consumer group with its own tasks (1).
    pub num_stream_threads: usize,
    /// Where to serve the application's metrics on `/metrics` in Prometheus' format (none
    /// by default; [`KafkaStreams::metrics_text`] renders them anyway).
    pub metrics_listen: Option<std::net::SocketAddr>,
}

impl StreamsConfig {
    /// An application on `cluster` with Kafka Streams' defaults.
    pub fn new(application_id: &str, cluster: ClusterSettings) -> Self {
        StreamsConfig {
            application_id: application_id.to_string(),
            cluster,
            processing_guarantee: ProcessingGuarantee::AtLeastOnce,
            commit_interval: Duration::from_secs(30),
            state_dir: std::env::temp_dir().join("brook-streams"),
            cache_max_bytes: 10 * 1024 * 1024,
            num_stream_threads: 1,
            metrics_listen: None,
        }
    }

    /// Serving metrics on `http://<addr>/metrics`.
    pub fn with_metrics_listen(mut self, addr: std::net::SocketAddr) -> Self {
        self.metrics_listen = Some(addr);
        self
    }

    /// With `threads` stream threads (at least one).
    pub fn with_num_stream_threads(mut self, threads: usize) -> Self {
        self.num_stream_threads = threads.max(1);
        self
    }

    /// With another `state.dir`.
    pub fn with_state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = dir.into();
        self
    }

    /// With another `statestore.cache.max.bytes` (0: every update forwarded at once).
    pub fn with_cache_max_bytes(mut self, bytes: usize) -> Self {
        self.cache_max_bytes = bytes;
        self
    }

    /// With `exactly_once_v2` and its 100 ms commit interval.
    pub fn exactly_once(mut self) -> Self {
        self.processing_guarantee = ProcessingGuarantee::ExactlyOnceV2;
        self.commit_interval = Duration::from_millis(100);
        self
    }

    /// With another commit interval.
    pub fn with_commit_interval(mut self, interval: Duration) -> Self {
        self.commit_interval = interval;
        self
    }
}

/// Why the application could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The cluster could not be reached or refused a request.
    #[error(transparent)]
    Client(#[from] brook_client::ClientError),
    /// A Kafka client call failed.
    #[error("{what}: {source}")]
    Kafka {
        /// What was being done.
        what: String,
        /// librdkafka's error.
        #[source]
        source: KafkaError,
    },
    /// The topology's input topics do not all have the same number of partitions.
    #[error("input topics must have the same number of partitions (co-partitioning): {0}")]
    CoPartitioning(String),
    /// No store of that name in the topology.
    #[error("the topology has no state store '{0}'")]
    UnknownStore(String),
    /// The topology needs something the runtime does not do yet.
    #[error("{0}")]
    Unsupported(String),
    /// Processing failed (a serde error, or a record for an unknown topic).
    #[error(transparent)]
    Processing(#[from] StreamsError),
}

fn kafka(what: impl Into<String>) -> impl FnOnce(KafkaError) -> RuntimeError {
    let what = what.into();
    move |source| RuntimeError::Kafka { what, source }
}

/// Where the application stands (Kafka Streams' `KafkaStreams.State`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamsState {
    /// Not started.
    Created,
    /// Started; tasks are being assigned or restored.
    Rebalancing,
    /// Processing.
    Running,
    /// Stopped after `close`.
    NotRunning,
    /// Stopped by an error (see [`KafkaStreams::close`]).
    Error,
}

/// What the stream thread reports.
#[derive(Debug)]
struct Shared {
    state: Mutex<StreamsState>,
    /// Each stream thread's active tasks, by thread name.
    threads: Mutex<BTreeMap<String, Vec<String>>>,
    /// Every active task's stores, for interactive queries: (store, partition) → the
    /// owning thread's index and the store.
    stores: Mutex<BTreeMap<(String, i32), (usize, StoreHandle)>>,
    metrics: Arc<StreamsMetrics>,
    stop: AtomicBool,
}

/// A stream thread and its tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadMetadata {
    /// `<application.id>-StreamThread-<n>`.
    pub thread_name: String,
    /// Its active tasks' ids (`0_<partition>`).
    pub active_tasks: Vec<String>,
}

/// A running streams application.
pub struct KafkaStreams {
    topology: Arc<Topology>,
    config: StreamsConfig,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<Result<(), RuntimeError>>>,
    /// The `/metrics` server and how to stop it.
    metrics_server: Option<(tokio::sync::oneshot::Sender<()>, JoinHandle<()>)>,
}

impl KafkaStreams {
    /// An application running `topology` with `config`; nothing happens until
    /// [`KafkaStreams::start`].
    pub fn new(topology: Topology, config: StreamsConfig) -> Self {
        let metrics = Arc::new(StreamsMetrics::new(&config.application_id));
        KafkaStreams {
            topology: Arc::new(topology),
            config,
            shared: Arc::new(Shared {
                state: Mutex::new(StreamsState::Created),
                threads: Mutex::new(BTreeMap::new()),
                stores: Mutex::new(BTreeMap::new()),
                metrics,
                stop: AtomicBool::new(false),
            }),
            threads: Vec::new(),
            metrics_server: None,
        }
    }

    /// The application's metrics in Prometheus' text format (what `metrics.listen` serves).
    pub fn metrics_text(&self) -> String {
        self.shared.metrics.render()
    }

    /// Creates the internal topics and starts the stream threads.
    pub fn start(&mut self) -> Result<(), RuntimeError> {
        if !self.topology.global_topics().is_empty() {
            return Err(RuntimeError::Unsupported(
                "global tables are not run by the streams runtime yet (the test driver runs them)"
                    .to_string(),
            ));
        }
        if let Some(addr) = self.config.metrics_listen {
            let listener = crate::metrics::bind(addr).map_err(|e| {
                RuntimeError::Unsupported(format!("cannot listen for metrics on {addr}: {e}"))
            })?;
            let (stop, stopped) = tokio::sync::oneshot::channel();
            let server = crate::metrics::serve(listener, self.shared.metrics.clone(), stopped)
                .map_err(|e| {
                    RuntimeError::Unsupported(format!("cannot serve metrics on {addr}: {e}"))
                })?;
            self.metrics_server = Some((stop, server));
        }
        create_internal_topics(&self.topology, &self.config)?;
        self.set_state(StreamsState::Rebalancing);
        for index in 1..=self.config.num_stream_threads {
            let (topology, config, shared) = (
                self.topology.clone(),
                self.config.clone(),
                self.shared.clone(),
            );
            let thread = std::thread::Builder::new()
                .name(format!("{}-StreamThread-{index}", config.application_id))
                .spawn(move || {
                    let result = StreamThread::new(&topology, &config, &shared, index)
                        .and_then(|mut thread| thread.run());
                    if let Err(e) = &result {
                        tracing::error!(error = %e, "stream thread stopped");
                        *shared.state.lock().unwrap_or_else(|p| p.into_inner()) =
                            StreamsState::Error;
                    }
                    result
                })
                .expect("a thread starts");
            self.threads.push(thread);
        }
        Ok(())
    }

    fn set_state(&self, state: StreamsState) {
        *self.shared.state.lock().unwrap_or_else(|p| p.into_inner()) = state;
    }

    /// The application's state.
    pub fn state(&self) -> StreamsState {
        *self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Each stream thread and its active tasks (Kafka Streams' `metadataForLocalThreads`);
    /// task ids are Kafka's `<subtopology>_<partition>`.
    pub fn local_threads_metadata(&self) -> Vec<ThreadMetadata> {
        self.shared
            .threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(name, tasks)| ThreadMetadata {
                thread_name: name.clone(),
                active_tasks: tasks.clone(),
            })
            .collect()
    }

    /// The key-value store `name` of this instance's tasks, read through these serdes
    /// (Kafka Streams' `store(StoreQueryParameters.fromNameAndType(name, keyValueStore()))`).
    pub fn key_value_store<K, V>(
        &self,
        name: &str,
        key_serde: impl Serde<K> + 'static,
        value_serde: impl Serde<V> + 'static,
    ) -> Result<ReadOnlyKeyValueStore<K, V>, RuntimeError> {
        let stores = self.local_stores(name)?;
        Ok(ReadOnlyKeyValueStore::new(
            name,
            stores,
            Arc::new(key_serde),
            Arc::new(value_serde),
        ))
    }

    /// The window store `name` (a `windowed_by(TimeWindows)` aggregation's, windows of
    /// `window_size_ms`) of this instance's tasks (Kafka's `QueryableStoreTypes.windowStore()`).
    pub fn window_store<K, V>(
        &self,
        name: &str,
        key_serde: impl Serde<K> + 'static,
        value_serde: impl Serde<V> + 'static,
        window_size_ms: i64,
    ) -> Result<ReadOnlyWindowStore<K, V>, RuntimeError> {
        let stores = self.local_stores(name)?;
        Ok(ReadOnlyWindowStore::new(
            name,
            stores,
            Arc::new(key_serde),
            Arc::new(value_serde),
            window_size_ms,
        ))
    }

    /// The store `name` of every task this instance runs now.
    fn local_stores(&self, name: &str) -> Result<Vec<StoreHandle>, RuntimeError> {
        if !self.topology.store_names().iter().any(|s| s == name) {
            return Err(RuntimeError::UnknownStore(name.to_string()));
        }
        let stores = self.shared.stores.lock().unwrap_or_else(|p| p.into_inner());
        Ok(stores
            .range((name.to_string(), i32::MIN)..=(name.to_string(), i32::MAX))
            .map(|(_, (_, store))| store.clone())
            .collect())
    }

    /// Records processed so far.
    pub fn processed_records(&self) -> u64 {
        self.shared.metrics.records_processed.get()
    }

    /// Changelog records read to restore stores so far (fewer when persistent stores
    /// start from their local copy).
    pub fn restored_records(&self) -> u64 {
        self.shared.metrics.records_restored.get()
    }

    /// Records dropped as late so far.
    pub fn dropped_records(&self) -> u64 {
        self.shared.metrics.records_dropped.get()
    }

    /// Stops processing: each thread commits what it processed (or its transaction) and
    /// saves its local state; waits for them. Returns the first error that stopped one.
    pub fn close(&mut self) -> Result<(), RuntimeError> {
        self.shared.stop.store(true, Ordering::Relaxed);
        let mut result = Ok(());
        for thread in self.threads.drain(..) {
            let joined = thread.join().unwrap_or_else(|_| {
                Err(RuntimeError::Unsupported(
                    "a stream thread panicked".to_string(),
                ))
            });
            if result.is_ok() {
                result = joined;
            }
        }
        self.stop_metrics_server();
        if result.is_ok() {
            self.set_state(StreamsState::NotRunning);
        }
        result
    }

    fn stop_metrics_server(&mut self) {
        if let Some((stop, server)) = self.metrics_server.take() {
            let _ = stop.send(());
            let _ = server.join();
        }
    }
}

impl Drop for KafkaStreams {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
        self.stop_metrics_server();
    }
}

/// The changelog topic of `store`.
pub fn changelog_topic(application_id: &str, store: &str) -> String {
    format!("{application_id}-{store}-changelog")
}

/// The topic name in the cluster: internal topics get the application id prefix.
fn cluster_topic(topology: &Topology, application_id: &str, topic: &str) -> String {
    if topology.is_internal(topic) {
        format!("{application_id}-{topic}")
    } else {
        topic.to_string()
    }
}

/// Checks co-partitioning and creates the repartition and changelog topics; returns the
/// partition count.
fn create_internal_topics(
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

/// One task: the topology's processors and stores for one partition number.
struct Task {
    partition: i32,
    wires: TaskWires,
    /// The local copy of its persistent stores (none when it has none, or could not open).
    local: Option<LocalStores>,
}

/// How often the local copies of persistent stores are brought up to date (after a commit).
const SAVE_INTERVAL: Duration = Duration::from_secs(10);

/// How often the consumer lag metrics are measured (at a commit).
const LAG_INTERVAL: Duration = Duration::from_secs(5);

/// The stream thread's clients and tasks.
struct StreamThread<'a> {
    topology: &'a Topology,
    config: &'a StreamsConfig,
    shared: &'a Shared,
    consumer: BaseConsumer<RebalanceFlag>,
    rebalanced: RebalanceFlag,
    producer: ThreadedProducer<Quiet>,
    tasks: BTreeMap<i32, Task>,
    assigned: BTreeSet<(String, i32)>,
    /// Next offset to commit per (cluster topic, partition).
    positions: HashMap<String, HashMap<i32, i64>>,
    /// Cluster topic name → the topology's name for it.
    sources: HashMap<String, String>,
    context: ProcessorContext,
    /// Which stream thread this is (1, 2, …).
    index: usize,
    /// The record being processed; its buffers are reused for the next one.
    record: RawRecord,
    eos: bool,
    in_transaction: bool,
    last_save: Instant,
    /// Next offset to process per input partition read (for the lag metrics).
    next_offsets: HashMap<(String, i32), i64>,
    last_lag: Instant,
}

impl<'a> StreamThread<'a> {
    fn new(
        topology: &'a Topology,
        config: &'a StreamsConfig,
        shared: &'a Shared,
        index: usize,
    ) -> Result<Self, RuntimeError> {
        let app = config.application_id.as_str();
        let eos = config.processing_guarantee == ProcessingGuarantee::ExactlyOnceV2;
        let rebalanced = RebalanceFlag::raised();
        let consumer: BaseConsumer<RebalanceFlag> = config.cluster.create(
            &[
                ("group.id", app),
                ("enable.auto.commit", "false"),
                ("auto.offset.reset", "earliest"),
                ("partition.assignment.strategy", "range"),
                // librdkafka pauses fetching for fetch.queue.backoff.ms (1 s) whenever 100,000
                // records wait locally; a stream thread drains that in a fraction of a second,
                // so the default leaves it idle most of the time.
                ("fetch.queue.backoff.ms", "50"),
                (
                    "isolation.level",
                    if eos {
                        "read_committed"
                    } else {
                        "read_uncommitted"
                    },
                ),
            ],
            rebalanced.clone(),
        )?;
        let sources: HashMap<String, String> = topology
            .source_topics()
            .into_iter()
            .map(|t| (cluster_topic(topology, app, &t), t))
            .collect();
        let subscribed: Vec<&str> = sources.keys().map(String::as_str).collect();
        consumer
            .subscribe(&subscribed)
            .map_err(kafka("cannot subscribe"))?;
        let transactional_id = format!(
            "{app}-{}-{index}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        let mut settings = vec![
            ("enable.idempotence", "true"),
            ("acks", "all"),
            ("linger.ms", "5"),
            // Kafka's default partitioner for keyed records, as the Java client uses.
            ("partitioner", "murmur2_random"),
        ];
        if eos {
            settings.push(("transactional.id", transactional_id.as_str()));
            // Kafka Streams' default: a crashed instance's open transaction is aborted soon.
            settings.push(("transaction.timeout.ms", "10000"));
        }
        let producer: ThreadedProducer<Quiet> = config.cluster.create(&settings, Quiet)?;
        if eos {
            producer
                .init_transactions(config.cluster.timeout)
                .map_err(kafka("cannot initialize transactions"))?;
        }
        Ok(StreamThread {
            topology,
            config,
            shared,
            consumer,
            rebalanced,
            producer,
            tasks: BTreeMap::new(),
            assigned: BTreeSet::new(),
            positions: HashMap::new(),
            sources,
            context: ProcessorContext::default(),
            index,
            record: RawRecord {
                topic: String::new(),
                partition: -1,
                offset: -1,
                key: None,
                value: None,
                timestamp: 0,
                headers: Vec::new(),
            },
            eos,
            in_transaction: false,
            last_save: Instant::now(),
            next_offsets: HashMap::new(),
            last_lag: Instant::now()
                .checked_sub(LAG_INTERVAL)
                .unwrap_or_else(Instant::now),
        })
    }

    fn run(&mut self) -> Result<(), RuntimeError> {
        let mut last_commit = Instant::now();
        let mut since_clock = 0u32;
        while !self.shared.stop.load(Ordering::Relaxed) {
            let polled = match self.consumer.poll(Duration::from_millis(100)) {
                None => false,
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "consumer error");
                    false
                }
                Some(Ok(m)) => {
                    let Some(source) = self.sources.get(m.topic()) else {
                        continue;
                    };
                    let record = &mut self.record;
                    record.topic.clear();
                    record.topic.push_str(source);
                    record.partition = m.partition();
                    record.offset = m.offset();
                    record.timestamp = m.timestamp().to_millis().unwrap_or(0);
                    refill(&mut record.key, m.key());
                    refill(&mut record.value, m.payload());
                    record.headers.clear();
                    if let Some(headers) = m.headers() {
                        record.headers.extend(
                            headers
                                .iter()
                                .map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec))),
                        );
                    }
                    let (partition, next) = (m.partition(), m.offset() + 1);
                    match self.positions.get_mut(m.topic()) {
                        Some(positions) => {
                            positions.insert(partition, next);
                        }
                        None => {
                            self.positions
                                .insert(m.topic().to_string(), HashMap::from([(partition, next)]));
                        }
                    }
                    true
                }
            };
            self.reconcile_assignment()?;
            let idle = !polled;
            if polled {
                self.process()?;
            }
            // Reading the clock costs more than a record's processing: look every 64 records.
            since_clock += 1;
            if idle || since_clock >= 64 {
                since_clock = 0;
                self.punctuate_wall_clock()?;
                if last_commit.elapsed() >= self.config.commit_interval {
                    self.commit()?;
                    last_commit = Instant::now();
                }
            }
        }
        self.commit()?;
        self.save_local_stores()
    }

    /// Rebuilds the tasks when the group changed the assignment.
    fn reconcile_assignment(&mut self) -> Result<(), RuntimeError> {
        if !self.rebalanced.take() {
            return Ok(());
        }
        let current: BTreeSet<(String, i32)> = self
            .consumer
            .assignment()
            .map_err(kafka("cannot read the assignment"))?
            .elements()
            .iter()
            .map(|e| (e.topic().to_string(), e.partition()))
            .collect();
        if current == self.assigned {
            return Ok(());
        }
        // What was processed for partitions that moved must not be committed by us any more.
        if self.eos && self.in_transaction {
            self.producer
                .abort_transaction(self.config.cluster.timeout)
                .map_err(kafka("cannot abort the transaction"))?;
            self.in_transaction = false;
        }
        self.positions.clear();
        let wanted: BTreeSet<i32> = current.iter().map(|(_, p)| *p).collect();
        self.tasks.retain(|p, _| wanted.contains(p));
        if self.eos {
            // Open tasks restart from their committed offsets too.
            self.tasks.clear();
        }
        for partition in wanted {
            if !self.tasks.contains_key(&partition) {
                let task = self.create_task(partition)?;
                self.tasks.insert(partition, task);
            }
        }
        // An (eager) assignment starts every partition at its committed offset.
        self.assigned = current;
        *self.shared.state.lock().unwrap_or_else(|p| p.into_inner()) = StreamsState::Running;
        tracing::info!(tasks = ?self.tasks.keys().collect::<Vec<_>>(), "tasks assigned");
        let name = std::thread::current()
            .name()
            .unwrap_or("stream-thread")
            .to_string();
        let tasks = self.tasks.keys().map(|p| format!("0_{p}")).collect();
        self.shared
            .threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name, tasks);
        // Interactive queries see this thread's current tasks' stores (and no longer the
        // ones it gave up; another thread may have registered those already).
        let mut stores = self.shared.stores.lock().unwrap_or_else(|p| p.into_inner());
        stores.retain(|_, (owner, _)| *owner != self.index);
        for task in self.tasks.values() {
            for (name, store) in &task.wires.stores {
                stores.insert((name.clone(), task.partition), (self.index, store.clone()));
            }
        }
        Ok(())
    }

    /// Builds task `partition`: loads its persistent stores' local copies and restores every
    /// store from its changelog (from the local copy's checkpoint, or from the beginning).
    fn create_task(&self, partition: i32) -> Result<Task, RuntimeError> {
        let wires = self.topology.instantiate();
        let app = &self.config.application_id;
        let persistent = wires
            .stores
            .keys()
            .any(|name| self.topology.store_options(name).persistent);
        let local = if persistent {
            let dir = self
                .config
                .state_dir
                .join(app)
                .join(format!("0_{partition}"));
            LocalStores::open(&dir)
                .inspect_err(|e| {
                    tracing::warn!(error = %e, "restoring from the changelogs instead");
                })
                .ok()
        } else {
            None
        };
        for (name, store) in &wires.stores {
            let options = self.topology.store_options(name);
            let mut store = crate::state::lock(store);
            let local = local.as_ref().filter(|_| options.persistent);
            let mut checkpoint = None;
            if let Some(local) = local {
                let saved = local
                    .load(name)
                    .map_err(|e| RuntimeError::Unsupported(e.to_string()))?;
                for (key, value) in saved.entries {
                    store.restore(key, Some(value));
                }
                checkpoint = saved.checkpoint;
                store.enable_saving();
            }
            if options.logging {
                let topic = changelog_topic(app, name);
                let restored = self.restore(&topic, partition, &mut store, checkpoint, local)?;
                tracing::debug!(store = %name, partition, restored, ?checkpoint, "restored a store");
                store.enable_logging();
            }
        }
        Ok(Task {
            partition,
            wires,
            local,
        })
    }

    /// Writes what persistent stores changed since the last save to their local copies, with
    /// their changelogs' end offsets as checkpoints. Called right after a commit, when the
    /// stores hold exactly what the changelogs do.
    fn save_local_stores(&mut self) -> Result<(), RuntimeError> {
        self.last_save = Instant::now();
        let app = &self.config.application_id;
        for task in self.tasks.values() {
            let Some(local) = &task.local else { continue };
            let mut saves = Vec::new();
            for (name, store) in &task.wires.stores {
                let options = self.topology.store_options(name);
                if !options.persistent {
                    continue;
                }
                let checkpoint = if options.logging {
                    let topic = changelog_topic(app, name);
                    self.consumer
                        .fetch_watermarks(&topic, task.partition, self.config.cluster.timeout)
                        .map_err(kafka(format!("cannot read the offsets of {topic}")))?
                        .1
                } else {
                    -1
                };
                saves.push((
                    name.clone(),
                    crate::state::lock(store).take_unsaved(),
                    checkpoint,
                ));
            }
            if let Err(e) = local.save(&saves) {
                tracing::warn!(error = %e, "cannot save the local state; a restart restores more");
            }
        }
        Ok(())
    }

    /// Reads `topic`'s partition from `checkpoint` (or its beginning) to its end into
    /// `store`; returns how many entries. A checkpoint the changelog no longer matches (the
    /// topic was recreated or truncated) is dropped with the local copy, and everything is
    /// read.
    fn restore(
        &self,
        topic: &str,
        partition: i32,
        store: &mut KeyValueStore,
        checkpoint: Option<i64>,
        local: Option<&LocalStores>,
    ) -> Result<u64, RuntimeError> {
        let restorer: BaseConsumer<Quiet> = self.config.cluster.create(
            &[
                (
                    "group.id",
                    &format!("{}-restore", self.config.application_id),
                ),
                ("enable.auto.commit", "false"),
                ("enable.partition.eof", "true"),
                (
                    "isolation.level",
                    if self.eos {
                        "read_committed"
                    } else {
                        "read_uncommitted"
                    },
                ),
            ],
            Quiet,
        )?;
        let (low, high) = restorer
            .fetch_watermarks(topic, partition, self.config.cluster.timeout)
            .map_err(kafka(format!("cannot read the offsets of {topic}")))?;
        let mut start = Offset::Beginning;
        if let Some(checkpoint) = checkpoint {
            if checkpoint > high || checkpoint < low {
                tracing::warn!(
                    topic,
                    partition,
                    checkpoint,
                    low,
                    high,
                    "the local state does not match the changelog; restoring all of it"
                );
                store.clear();
                if let Some(local) = local {
                    local
                        .wipe(store.name())
                        .map_err(|e| RuntimeError::Unsupported(e.to_string()))?;
                }
            } else {
                start = Offset::Offset(checkpoint);
                if checkpoint >= high {
                    return Ok(0);
                }
            }
        }
        if high <= low {
            return Ok(0);
        }
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(topic, partition, start)
            .map_err(kafka("cannot assign"))?;
        restorer.assign(&tpl).map_err(kafka("cannot assign"))?;
        let mut count = 0;
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            if Instant::now() > deadline {
                return Err(RuntimeError::Unsupported(format!(
                    "restoring {topic}-{partition} did not finish"
                )));
            }
            match restorer.poll(Duration::from_millis(200)) {
                None => {}
                Some(Err(KafkaError::PartitionEOF(_))) => break,
                Some(Err(e)) => return Err(kafka(format!("cannot restore {topic}"))(e)),
                Some(Ok(m)) => {
                    if let Some(key) = m.key() {
                        store.restore(key.to_vec(), m.payload().map(<[u8]>::to_vec));
                        count += 1;
                        self.shared.metrics.records_restored.inc();
                    }
                    if m.offset() + 1 >= high {
                        break;
                    }
                }
            }
        }
        Ok(count)
    }

    /// Runs the polled record through its task and produces what it wrote.
    fn process(&mut self) -> Result<(), RuntimeError> {
        let partition = self.record.partition;
        let Some(task) = self.tasks.get(&partition) else {
            return Ok(());
        };
        let Some(wire) = task.wires.sources.get(&self.record.topic).cloned() else {
            return Err(StreamsError::UnknownTopic(self.record.topic.clone()).into());
        };
        if self.eos && !self.in_transaction {
            self.producer
                .begin_transaction()
                .map_err(kafka("cannot begin a transaction"))?;
            self.in_transaction = true;
        }
        let (dropped_before, skipped_before) =
            (self.context.dropped_records, self.context.skipped_records);
        // One record in 64 is timed: reading the clock costs about what a record does.
        let timed = (self.shared.metrics.records_processed.get() % 64 == 0).then(Instant::now);
        wire(&mut self.context, &self.record);
        let stream_time = task.wires.stream_time();
        let fired =
            task.wires
                .punctuate(&mut self.context, PunctuationType::StreamTime, stream_time);
        if fired > 0 {
            self.shared.metrics.punctuations.inc_by(fired as u64);
        }
        if let Some(error) = self.context.error.take() {
            return Err(error.into());
        }
        self.send_output()?;
        let task = &self.tasks[&partition];
        let pending: usize = task
            .wires
            .stores
            .values()
            .map(|s| crate::state::lock(s).changelog_bytes())
            .sum();
        let share = self.config.cache_max_bytes / self.config.num_stream_threads.max(1);
        if pending > share / self.tasks.len().max(1) {
            self.flush_task(partition)?;
        }
        let metrics = &self.shared.metrics;
        if let Some(started) = timed {
            metrics
                .process_seconds
                .observe(started.elapsed().as_secs_f64());
        }
        metrics.records_processed.inc();
        metrics
            .records_dropped
            .inc_by(self.context.dropped_records - dropped_before);
        metrics
            .records_skipped
            .inc_by(self.context.skipped_records - skipped_before);
        Ok(())
    }

    /// Every [`LAG_INTERVAL`], sets the lag of each input partition this thread has read:
    /// its high watermark (asked of the broker) minus the next offset to process.
    fn record_lag(&mut self) {
        for (topic, positions) in &self.positions {
            for (partition, next) in positions {
                self.next_offsets.insert((topic.clone(), *partition), *next);
            }
        }
        if self.next_offsets.is_empty() || self.last_lag.elapsed() < LAG_INTERVAL {
            return;
        }
        self.last_lag = Instant::now();
        for ((topic, partition), next) in &self.next_offsets {
            if !self.assigned.contains(&(topic.clone(), *partition)) {
                continue;
            }
            let watermarks =
                self.consumer
                    .fetch_watermarks(topic.as_str(), *partition, Duration::from_secs(1));
            if let Ok((_, high)) = watermarks {
                let labels = crate::metrics::PartitionLabels {
                    topic: topic.clone(),
                    partition: *partition,
                };
                self.shared
                    .metrics
                    .consumer_lag
                    .get_or_create(&labels)
                    .set((high - next).max(0));
            }
        }
    }

    /// Fires the wall-clock punctuations that are due and produces what they wrote.
    fn punctuate_wall_clock(&mut self) -> Result<(), RuntimeError> {
        let now = crate::now_ms();
        let kind = PunctuationType::WallClockTime;
        if !self.tasks.values().any(|t| t.wires.is_due(kind, now)) {
            return Ok(());
        }
        if self.eos && !self.in_transaction {
            // What a punctuation writes belongs in the transaction like any output.
            self.producer
                .begin_transaction()
                .map_err(kafka("cannot begin a transaction"))?;
            self.in_transaction = true;
        }
        let mut fired = 0;
        for task in self.tasks.values() {
            fired += task.wires.punctuate(&mut self.context, kind, now);
        }
        self.shared.metrics.punctuations.inc_by(fired as u64);
        if fired > 0 {
            if let Some(error) = self.context.error.take() {
                return Err(error.into());
            }
            self.send_output()?;
        }
        Ok(())
    }

    /// Produces what the processors wrote to sink topics.
    fn send_output(&mut self) -> Result<(), RuntimeError> {
        let output = std::mem::take(&mut self.context.output);
        let app = &self.config.application_id;
        for record in output {
            let topic = cluster_topic(self.topology, app, &record.topic);
            self.send(
                &topic,
                None,
                record.key.as_deref(),
                record.value.as_deref(),
                record.timestamp,
                &record.headers,
            )?;
        }
        Ok(())
    }

    /// Forwards what task `partition`'s record caches hold and produces its stores'
    /// pending changelog entries.
    fn flush_task(&mut self, partition: i32) -> Result<(), RuntimeError> {
        let Some(task) = self.tasks.get(&partition) else {
            return Ok(());
        };
        task.wires.flush(&mut self.context);
        if let Some(error) = self.context.error.take() {
            return Err(error.into());
        }
        self.send_output()?;
        let task = &self.tasks[&partition];
        let app = &self.config.application_id;
        for (name, store) in &task.wires.stores {
            let entries = crate::state::lock(store).take_changelog();
            if entries.is_empty() {
                continue;
            }
            let topic = changelog_topic(app, name);
            for (key, value) in entries {
                self.send(
                    &topic,
                    Some(partition),
                    Some(&key),
                    value.as_deref(),
                    0,
                    &[],
                )?;
            }
        }
        Ok(())
    }

    fn send(
        &self,
        topic: &str,
        partition: Option<i32>,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        timestamp: i64,
        headers: &[(String, Option<Vec<u8>>)],
    ) -> Result<(), RuntimeError> {
        let mut owned = OwnedHeaders::new();
        for (name, value) in headers {
            owned = owned.insert(Header {
                key: name,
                value: value.as_deref(),
            });
        }
        let mut record = BaseRecord::<[u8], [u8]>::to(topic).headers(owned);
        if let Some(key) = key {
            record = record.key(key);
        }
        if let Some(value) = value {
            record = record.payload(value);
        }
        if let Some(p) = partition {
            record = record.partition(p);
        }
        if timestamp > 0 {
            record = record.timestamp(timestamp);
        }
        loop {
            match self.producer.send(record) {
                Ok(()) => return Ok(()),
                Err((e, back))
                    if e.rdkafka_error_code()
                        == Some(rdkafka::types::RDKafkaErrorCode::QueueFull) =>
                {
                    std::thread::sleep(Duration::from_millis(1));
                    record = back;
                }
                Err((e, _)) => return Err(kafka(format!("cannot produce to {topic}"))(e)),
            }
        }
    }

    /// Commits: the produced records and the consumed offsets, together (exactly once) or
    /// one after the other (at least once).
    fn commit(&mut self) -> Result<(), RuntimeError> {
        let started = Instant::now();
        self.record_lag();
        let partitions: Vec<i32> = self.tasks.keys().copied().collect();
        for partition in partitions {
            self.flush_task(partition)?;
        }
        let mut offsets = TopicPartitionList::new();
        for (topic, positions) in &self.positions {
            for (partition, offset) in positions {
                offsets
                    .add_partition_offset(topic, *partition, Offset::Offset(*offset))
                    .map_err(kafka("cannot build the offsets to commit"))?;
            }
        }
        let timeout = self.config.cluster.timeout;
        if self.eos {
            if !self.in_transaction {
                return Ok(());
            }
            let metadata = self
                .consumer
                .group_metadata()
                .ok_or_else(|| RuntimeError::Unsupported("no consumer group metadata".into()))?;
            if offsets.count() > 0 {
                self.producer
                    .send_offsets_to_transaction(&offsets, &metadata, timeout)
                    .map_err(kafka("cannot add offsets to the transaction"))?;
            }
            self.producer
                .commit_transaction(timeout)
                .map_err(kafka("cannot commit the transaction"))?;
            self.in_transaction = false;
        } else {
            self.producer
                .flush(timeout)
                .map_err(kafka("cannot flush the producer"))?;
            if offsets.count() > 0 {
                self.consumer
                    .commit(&offsets, CommitMode::Sync)
                    .map_err(kafka("cannot commit offsets"))?;
            }
        }
        self.positions.clear();
        self.shared
            .metrics
            .commit_seconds
            .observe(started.elapsed().as_secs_f64());
        if self.last_save.elapsed() >= SAVE_INTERVAL {
            self.save_local_stores()?;
        }
        Ok(())
    }
}

/// Copies `data` into `slot`, reusing its buffer.
fn refill(slot: &mut Option<Vec<u8>>, data: Option<&[u8]>) {
    match data {
        Some(data) => {
            let buffer = slot.get_or_insert_with(Vec::new);
            buffer.clear();
            buffer.extend_from_slice(data);
        }
        None => *slot = None,
    }
}

/// Runs a future to completion on this thread (rdkafka's admin futures need no runtime).
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut context = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::park();
    }
}
