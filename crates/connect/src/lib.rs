//! brook-connect: a connector runtime with Kafka Connect's REST API (served by `brook serve`
//! on 127.0.0.1:8083 and by `brook connect` against any Kafka cluster).
//!
//! - [`data`]: Kafka Connect's data model (schemas and values);
//! - [`converters`]: `StringConverter`, `ByteArrayConverter`, `JsonConverter`;
//! - [`plugin`]: what a connector plugin is, and the built-in ones;
//! - [`datagen`]: the Datagen source (Confluent's quickstarts and `arg.properties` schemas);
//! - [`file`]: Kafka's FileStream source and sink;
//! - [`csv_source`]: a CSV source with the SpoolDir connector's settings;
//! - [`jdbc`]: PostgreSQL source and sink with the settings of Confluent's JDBC connectors;
//! - [`worker`]: the runtime — connector configs, target states and task configs in the
//!   config topic, source offsets in the offsets topic, statuses in the status topic;
//! - [`loggers`]: log levels changed at run time (`/admin/loggers`);
//! - [`rest`]: the REST API.
//!
//! ```no_run
//! use brook_client::ClusterSettings;
//! use brook_connect::worker::{Worker, WorkerConfig};
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let worker = Worker::start(WorkerConfig::new(ClusterSettings::new("127.0.0.1:9092"), "127.0.0.1:8083"))?;
//! let server = brook_connect::rest::ConnectServer::start(worker, "127.0.0.1:8083".parse()?).await?;
//! println!("Kafka Connect's REST API on {}", server.local_addr());
//! # Ok(()) }
//! ```

pub mod converters;
pub mod csv_source;
pub mod data;
pub mod datagen;
pub mod file;
pub mod jdbc;
pub mod loggers;
pub mod plugin;
pub mod rest;
pub mod transforms;
pub mod worker;
