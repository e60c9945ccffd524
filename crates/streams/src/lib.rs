//! Brook Streams: stream processing as a Kafka client, with Kafka Streams' concepts and names
//! (issue 13). `docs/streams.md` is the guide.
//!
//! - [`serdes`]: the serializers and deserializers a topology uses at its sources and sinks,
//!   byte for byte compatible with Kafka's (`Serdes.String()`, `Serdes.Integer()`,
//!   `Serdes.Long()`, …), JSON through `serde`, `Option<T>` for null keys and values, and
//!   Avro / JSON Schema / Protobuf through a schema registry in Confluent's wire format;
//! - [`windowed`]: windows and the windowed-key formats of Kafka Streams' `TimeWindowedSerde`
//!   and `SessionWindowedSerde`, so that Brook and Java Kafka Streams applications read each
//!   other's windowed output topics;
//! - [`dsl`]: `StreamsBuilder`, `KStream` (stateless operations, branching, merging,
//!   repartitioning, sinks, the Processor API with punctuations), grouping and aggregation
//!   into `KTable`s, tumbling / hopping / sliding / session windows with grace, suppression,
//!   stream–stream, stream–table, table–table, foreign-key and global-table joins;
//! - [`topology`]: the processor graph they describe and its per-task instantiation, with
//!   typed records passed between processors as direct calls;
//! - [`state`]: key-value stores with changelog capture, record caches' flushing, a local
//!   persistent copy on redb ([`state::local`]) and interactive-query views
//!   ([`state::query`]);
//! - [`test_driver`]: `TopologyTestDriver` with typed input and output topics, store
//!   inspection and a mock wall clock;
//! - [`runtime`]: `KafkaStreams` runs a topology against a cluster through a consumer group:
//!   stream threads with one task per partition, stores changelogged and restored, global
//!   tables, at_least_once or exactly_once_v2 on Kafka transactions, interactive queries;
//! - [`metrics`]: the application's metrics in Prometheus' format.
//!
//! ```
//! use brook_streams::serdes::{Serde, Serdes};
//! use brook_streams::windowed::{TimeWindowedSerde, Window, Windowed};
//!
//! let count = Serdes::i64().serialize("counts", &42).unwrap();
//! assert_eq!(count, 42_i64.to_be_bytes());
//!
//! // A key of a one-hour tumbling window, as Kafka Streams writes it.
//! let serde = TimeWindowedSerde::new(Serdes::string(), 3_600_000);
//! let key = Windowed { key: "132".to_string(), window: Window::new(0, 3_600_000) };
//! let bytes = serde.serialize("rides-per-hour", &key).unwrap();
//! assert_eq!(serde.deserialize("rides-per-hour", &bytes).unwrap(), key);
//! ```

pub mod dsl;
pub mod metrics;

/// Wall-clock time in milliseconds since the epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
pub mod runtime;
pub mod serdes;
pub mod state;
pub mod test_driver;
pub mod topology;
pub mod windowed;

/// `docs/streams.md`, whose examples run as doc tests so that the guide stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/streams.md")]
pub struct StreamsGuide;
