//! A streams application's metrics in Prometheus' text format (the counterparts of Kafka
//! Streams' thread- and task-level JMX metrics): records processed, dropped as late and
//! skipped as undeserializable, changelog records restored, process and commit latency,
//! punctuations, and the consumer lag per input partition. [`crate::runtime::KafkaStreams`]
//! renders them ([`StreamsMetrics::render`]) and, with `metrics.listen` set, serves them on
//! `/metrics`.
//!
//! Concurrency: every metric is atomic; stream threads update them, any thread renders.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of per-partition series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PartitionLabels {
    /// Topic name.
    pub topic: String,
    /// Partition index.
    pub partition: i32,
}

/// One application's metrics (all its stream threads together).
#[derive(Debug)]
pub struct StreamsMetrics {
    registry: Registry,
    /// Records processed (input and repartitioned records).
    pub records_processed: Counter,
    /// Records dropped because their window had closed (past the grace period).
    pub records_dropped: Counter,
    /// Records skipped because they could not be deserialized (log-and-continue).
    pub records_skipped: Counter,
    /// Changelog records read to restore stores.
    pub records_restored: Counter,
    /// Seconds to process one record through its task (one record in 64 is timed).
    pub process_seconds: Histogram,
    /// Seconds per commit (flushing caches, producing, committing offsets or the transaction).
    pub commit_seconds: Histogram,
    /// Punctuations fired.
    pub punctuations: Counter,
    /// Records in each input partition after the last one processed, as of the last commit.
    pub consumer_lag: Family<PartitionLabels, Gauge>,
}

impl StreamsMetrics {
    /// Metrics labelled with `application_id`.
    pub fn new(application_id: &str) -> Self {
        let labels = [(
            Cow::Borrowed("application_id"),
            Cow::Owned(application_id.to_string()),
        )];
        let mut registry = Registry::with_prefix_and_labels("brook_streams", labels.into_iter());
        let records_processed = Counter::default();
        let records_dropped = Counter::default();
        let records_skipped = Counter::default();
        let records_restored = Counter::default();
        let process_seconds = Histogram::new(exponential_buckets(0.000_000_5, 2.0, 24));
        let commit_seconds = Histogram::new(exponential_buckets(0.000_1, 2.0, 18));
        let punctuations = Counter::default();
        let consumer_lag = Family::<PartitionLabels, Gauge>::default();
        registry.register(
            "records_processed",
            "Records processed",
            records_processed.clone(),
        );
        registry.register(
            "records_dropped",
            "Records dropped because their window had closed",
            records_dropped.clone(),
        );
        registry.register(
            "records_skipped",
            "Records skipped because they could not be deserialized",
            records_skipped.clone(),
        );
        registry.register(
            "records_restored",
            "Changelog records read to restore stores",
            records_restored.clone(),
        );
        registry.register(
            "process_seconds",
            "Seconds to process one record (sampled)",
            process_seconds.clone(),
        );
        registry.register(
            "commit_seconds",
            "Seconds per commit",
            commit_seconds.clone(),
        );
        registry.register("punctuations", "Punctuations fired", punctuations.clone());
        registry.register(
            "consumer_lag",
            "Records after the last one processed, per input partition",
            consumer_lag.clone(),
        );
        StreamsMetrics {
            registry,
            records_processed,
            records_dropped,
            records_skipped,
            records_restored,
            process_seconds,
            commit_seconds,
            punctuations,
            consumer_lag,
        }
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String");
        out
    }
}

/// Serves `metrics` on `http://<listener>/metrics` until `stop` fires.
pub(crate) fn serve(
    listener: std::net::TcpListener,
    metrics: Arc<StreamsMetrics>,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    std::thread::Builder::new()
        .name("streams-metrics".to_string())
        .spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let app = axum::Router::new().route(
                    "/metrics",
                    axum::routing::get(move || {
                        let metrics = metrics.clone();
                        async move {
                            (
                                [(
                                    axum::http::header::CONTENT_TYPE,
                                    "text/plain; version=0.0.4; charset=utf-8",
                                )],
                                metrics.render(),
                            )
                        }
                    }),
                );
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stop.await;
                    })
                    .await;
            });
        })
}

/// Binds the metrics listener (so that a taken port fails `start` at once).
pub(crate) fn bind(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    std::net::TcpListener::bind(addr)
}
