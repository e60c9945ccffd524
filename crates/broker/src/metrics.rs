//! Prometheus metrics: bytes and records in and out per topic, requests and their latency per
//! API, open connections, partition sizes; served as text on `/metrics`.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::server::BrokerContext;

/// Labels of per-topic series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TopicLabels {
    /// Topic name.
    pub topic: String,
}

/// Labels of per-partition series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PartitionLabels {
    /// Topic name.
    pub topic: String,
    /// Partition index.
    pub partition: i32,
}

/// Labels of per-API series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ApiLabels {
    /// Kafka API name, e.g. `Produce`.
    pub api: String,
}

/// The broker's metrics. Cheap to update from any task.
#[derive(Debug)]
pub struct BrokerMetrics {
    registry: Registry,
    /// Record-batch bytes appended, per topic.
    pub bytes_in: Family<TopicLabels, Counter>,
    /// Records appended, per topic.
    pub records_in: Family<TopicLabels, Counter>,
    /// Record-batch bytes returned by fetches, per topic.
    pub bytes_out: Family<TopicLabels, Counter>,
    /// Records returned by fetches, per topic.
    pub records_out: Family<TopicLabels, Counter>,
    /// Requests handled, per API.
    pub requests: Family<ApiLabels, Counter>,
    /// Request latency in seconds, per API (fetch includes its long-poll wait).
    pub request_seconds: Family<ApiLabels, Histogram>,
    /// Client connections open now.
    pub open_connections: Gauge,
    /// Responses that could not be encoded at the request's version (a handler bug), per API;
    /// the client got a fallback error response instead.
    pub response_encode_errors: Family<ApiLabels, Counter>,
    partition_bytes: Family<PartitionLabels, Gauge>,
}

impl Default for BrokerMetrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("brook");
        let bytes_in = Family::default();
        let records_in = Family::default();
        let bytes_out = Family::default();
        let records_out = Family::default();
        let requests = Family::default();
        let request_seconds = Family::<ApiLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_05, 2.0, 18))
        });
        let open_connections = Gauge::default();
        let response_encode_errors = Family::default();
        let partition_bytes = Family::default();
        registry.register("bytes_in", "Record-batch bytes appended", bytes_in.clone());
        registry.register("records_in", "Records appended", records_in.clone());
        registry.register(
            "bytes_out",
            "Record-batch bytes sent to fetchers",
            bytes_out.clone(),
        );
        registry.register(
            "records_out",
            "Records sent to fetchers",
            records_out.clone(),
        );
        registry.register("requests", "Requests handled", requests.clone());
        registry.register(
            "request_duration_seconds",
            "Request latency",
            request_seconds.clone(),
        );
        registry.register(
            "open_connections",
            "Client connections open now",
            open_connections.clone(),
        );
        registry.register(
            "response_encode_errors",
            "Responses that could not be encoded at the request's version",
            response_encode_errors.clone(),
        );
        registry.register(
            "partition_size_bytes",
            "Bytes on disk per partition",
            partition_bytes.clone(),
        );
        BrokerMetrics {
            registry,
            bytes_in,
            records_in,
            bytes_out,
            records_out,
            requests,
            request_seconds,
            open_connections,
            response_encode_errors,
            partition_bytes,
        }
    }
}

impl BrokerMetrics {
    /// Counts one request and its latency, labelled with the API's name as Kafka spells it
    /// (`ApiKey`'s variant names are exactly those).
    pub fn observe_request(&self, api: kafka_protocol::messages::ApiKey, elapsed: Duration) {
        let labels = ApiLabels {
            api: format!("{api:?}"),
        };
        self.requests.get_or_create(&labels).inc();
        self.request_seconds
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Counts a response of `api` that could not be encoded.
    pub fn response_encode_error(&self, api: kafka_protocol::messages::ApiKey) {
        let labels = ApiLabels {
            api: format!("{api:?}"),
        };
        self.response_encode_errors.get_or_create(&labels).inc();
    }

    /// How many responses of `api` could not be encoded.
    pub fn response_encode_errors(&self, api: kafka_protocol::messages::ApiKey) -> u64 {
        let labels = ApiLabels {
            api: format!("{api:?}"),
        };
        self.response_encode_errors.get_or_create(&labels).get()
    }

    /// Adds produced bytes and records for `topic`.
    pub fn record_in(&self, topic: &str, bytes: u64, records: u64) {
        let labels = TopicLabels {
            topic: topic.to_string(),
        };
        self.bytes_in.get_or_create(&labels).inc_by(bytes);
        self.records_in.get_or_create(&labels).inc_by(records);
    }

    /// Adds fetched bytes and records for `topic`.
    pub fn record_out(&self, topic: &str, bytes: u64, records: u64) {
        let labels = TopicLabels {
            topic: topic.to_string(),
        };
        self.bytes_out.get_or_create(&labels).inc_by(bytes);
        self.records_out.get_or_create(&labels).inc_by(records);
    }

    /// The text exposition, with partition sizes read now.
    pub fn render(&self, context: &BrokerContext) -> String {
        self.partition_bytes.clear();
        for topic in context.topics.list() {
            for partition in &topic.partitions {
                let labels = PartitionLabels {
                    topic: topic.name.clone(),
                    partition: partition.index,
                };
                self.partition_bytes
                    .get_or_create(&labels)
                    .set(partition.log.size_bytes() as i64);
            }
        }
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String");
        out
    }
}

/// Records in the batches of `bytes` (from their headers, without decoding records).
pub fn count_records(bytes: &bytes::Bytes) -> u64 {
    brook_protocol::Batches::new(bytes.clone())
        .map_while(Result::ok)
        .map(|b| b.records_count().max(0) as u64)
        .sum()
}

/// Serves `/metrics` until the shutdown signal.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    context: Arc<BrokerContext>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let context = context.clone();
            async move {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    context.metrics.render(&context),
                )
            }
        }),
    );
    let _ = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = shutdown.changed().await;
        })
        .await;
}
