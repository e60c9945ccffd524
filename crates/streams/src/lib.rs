//! Brook Streams: stream processing as a Kafka client, with Kafka Streams' concepts and names
//! (issue 13, being built).
//!
//! So far: [`serdes`] — the serializers and deserializers a topology uses at its sources and
//! sinks, byte for byte compatible with Kafka's (`Serdes.String()`, `Serdes.Integer()`,
//! `Serdes.Long()`, …, JSON through `serde`), and [`windowed`] — windows and the windowed-key
//! formats of Kafka Streams' `TimeWindowedSerde` and `SessionWindowedSerde`, so that Brook and
//! Java Kafka Streams applications read each other's windowed output topics.
//!
//! Layout (as it grows): `serdes.rs`, `windowed.rs`; next the DSL (`dsl/`), the runtime
//! (`runtime/`), state stores (`state/`) and the `TopologyTestDriver`.
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

pub mod serdes;
pub mod windowed;
