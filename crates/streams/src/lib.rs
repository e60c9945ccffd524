//! Brook Streams: stream processing as a Kafka client, with Kafka Streams' concepts and names
//! (issue 13, being built).
//!
//! So far:
//! - [`serdes`]: the serializers and deserializers a topology uses at its sources and sinks,
//!   byte for byte compatible with Kafka's (`Serdes.String()`, `Serdes.Integer()`,
//!   `Serdes.Long()`, …, JSON through `serde`, `Option<T>` for null keys and values);
//! - [`windowed`]: windows and the windowed-key formats of Kafka Streams' `TimeWindowedSerde`
//!   and `SessionWindowedSerde`, so that Brook and Java Kafka Streams applications read each
//!   other's windowed output topics;
//! - [`dsl`]: `StreamsBuilder` and `KStream`'s stateless operations (filter, filter_not, map,
//!   map_values, flat_map, flat_map_values, select_key, peek, foreach, split/branch, merge, to
//!   with a topic or a topic extractor), `Consumed` (serdes, timestamp extractor,
//!   deserialization error handler) and `Produced`,
//!   and grouping: `group_by_key` / `group_by` → `KGroupedStream` → count, reduce, aggregate
//!   into a `KTable` (`Materialized` names its store), whose filter, map_values and to_stream
//!   work on `Change`s (new and old value), as Kafka Streams' do; `windowed_by(TimeWindows)`
//!   (tumbling and hopping, grace, late records dropped) and `windowed_by_sessions`
//!   (merging sessions) into `KTable<Windowed<K>, V>`; `suppress_until_window_closes` and
//!   `suppress_until_time_limit`;
//!   `StreamsBuilder::table` (tombstones delete) and stream–table `join` / `left_join`;
//!   windowed stream–stream `join_stream` / `left_join_stream` / `outer_join_stream`
//!   (`JoinWindows`, KIP-633's emit-after-close for unpartnered records); table–table
//!   `join` / `left_join` / `outer_join`; foreign-key `join_on_foreign_key` /
//!   `left_join_on_foreign_key`; `GlobalKTable` with `join_global` / `left_join_global`;
//!   `process` with a user `Processor` and state stores it names;
//! - [`state`]: the in-memory key-value store aggregations keep their results in (bytes,
//!   through the serdes), per task;
//! - [`topology`]: the processor graph they describe and its per-task instantiation, with
//!   typed records passed between processors as direct calls;
//! - [`test_driver`]: `TopologyTestDriver` with typed input and output topics and store
//!   inspection;
//! - [`runtime`]: `KafkaStreams` runs a topology against a cluster through a consumer group,
//!   one task per partition, stores changelogged and restored, at_least_once or
//!   exactly_once_v2 on Kafka transactions.
//!
//! Next: sliding windows, persistent stores, several stream threads, global tables in the
//! runtime.
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
