//! [`KafkaStreams`]: runs a [`Topology`] against a Kafka cluster (Brook's or any other), as
//! Kafka Streams' `KafkaStreams` does.
//!
//! - **Internal topics** (`topics.rs`) are created at start, prefixed with `application.id`:
//!   each repartition topic and one compacted `<application.id>-<store>-changelog` per logged
//!   store, with as many partitions as the input topics (which must agree: co-partitioning).
//! - **Tasks**: one per partition number; task `p` processes partition `p` of every input
//!   and repartition topic and owns partition `p` of every changelog. The instances with the
//!   same `application.id` share the partitions through a consumer group (range assignment
//!   keeps partition `p` of all topics together); a task that moves is rebuilt from its
//!   changelogs (from its persistent stores' local copies and their checkpoints, when this
//!   instance has them) before it processes anything.
//! - **Processing** (`stream_thread.rs`): each stream thread (`num.stream.threads`, each a
//!   group member with its own tasks) polls, routes each record to its task, produces what the
//!   task wrote (sink topics partitioned by key with Kafka's murmur2, as the Java client does;
//!   changelog entries to the task's partition, compacted per key until the commit), fires
//!   punctuations, and commits every `commit.interval.ms` after flushing the record caches.
//!   `at_least_once`: flush, then commit the consumed offsets. `exactly_once_v2`: everything a
//!   commit interval produced, and its consumed offsets, in one transaction of one
//!   transactional producer per thread (KIP-447, fenced through the group generation).
//! - **Global tables** (`global_thread.rs`): read whole by every instance, to their ends before
//!   any task runs, then followed.
//! - **Interactive queries** ([`KafkaStreams::key_value_store`], [`KafkaStreams::window_store`])
//!   read the stores of this instance's tasks from any thread; **metrics** in Prometheus'
//!   format ([`KafkaStreams::metrics_text`], `metrics.listen`).
//!
//! - **Rebalancing**: the classic protocol (eager; any cluster) or KIP-848's consumer protocol
//!   with the broker's range assignor ([`GroupProtocol::Consumer`]: only the tasks that change
//!   owner stop). A task a thread keeps carries on from its own positions.
//!
//! Not yet: standby replicas, a commit when partitions are revoked (a task that moves to
//! another instance under at_least_once is reprocessed there from the last commit), routing
//! interactive queries to other instances.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use brook_client::ClusterSettings;
use rdkafka::error::KafkaError;

mod global_thread;
mod stream_thread;
mod topics;

pub use topics::changelog_topic;

use stream_thread::StreamThread;
use topics::create_internal_topics;

use crate::metrics::StreamsMetrics;
use crate::serdes::Serde;
use crate::state::StoreHandle;
use crate::state::query::{ReadOnlyKeyValueStore, ReadOnlyWindowStore};
use crate::topology::{StreamsError, Topology};

/// How records are processed when something fails (`processing.guarantee`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProcessingGuarantee {
    /// Nothing is lost; records processed since the last commit may be processed again.
    #[default]
    AtLeastOnce,
    /// Every record's effects happen once, through Kafka transactions.
    ExactlyOnceV2,
}

/// How the application's stream threads form their consumer group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GroupProtocol {
    /// The classic protocol with the range assignor: every rebalance revokes every
    /// partition first (eager); works with any Kafka cluster.
    #[default]
    Classic,
    /// KIP-848's consumer protocol with the broker's range assignor: a rebalance moves only
    /// the partitions that change owner, and the others keep processing (cooperative);
    /// needs a broker that serves it (Brook, Kafka 4.0+).
    Consumer,
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
    /// `group.protocol` of the stream threads' consumers.
    pub group_protocol: GroupProtocol,
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
            group_protocol: GroupProtocol::Classic,
        }
    }

    /// With KIP-848's consumer group protocol: cooperative rebalancing (see
    /// [`GroupProtocol::Consumer`]).
    pub fn with_group_protocol(mut self, protocol: GroupProtocol) -> Self {
        self.group_protocol = protocol;
        self
    }

    /// Serving metrics on `http://<addr>/metrics`.
    pub fn with_metrics_listen(mut self, addr: std::net::SocketAddr) -> Self {
        self.metrics_listen = Some(addr);
        self
    }

    /// The `isolation.level` its consumers read with: only committed transactions under
    /// exactly_once_v2.
    pub(crate) fn isolation_level(&self) -> &'static str {
        match self.processing_guarantee {
            ProcessingGuarantee::ExactlyOnceV2 => "read_committed",
            ProcessingGuarantee::AtLeastOnce => "read_uncommitted",
        }
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
    /// owning thread's index and the store (global tables' under partition -1, thread 0).
    stores: Mutex<BTreeMap<(String, i32), (usize, StoreHandle)>>,
    /// Global tables' stores, one per instance, shared by every task.
    global_stores: Mutex<std::collections::HashMap<String, StoreHandle>>,
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
                global_stores: Mutex::new(std::collections::HashMap::new()),
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
        if !self.topology.global_topics().is_empty() {
            // Every global table is read to its end before any task runs.
            let started = global_thread::start(
                self.topology.clone(),
                self.config.clone(),
                self.shared.clone(),
            );
            match started {
                Ok(thread) => self.threads.push(thread),
                Err(e) => {
                    self.set_state(StreamsState::Error);
                    return Err(e);
                }
            }
        }
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
