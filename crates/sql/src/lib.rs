//! Brook SQL: ksqlDB's streaming SQL compiled onto Brook Streams, with ksqlDB's REST API.
//!
//! - [`parser`] reads statements (ksqlDB's grammar) into the [`ast`];
//! - [`expr`] binds expressions to a row's columns and evaluates them, with the built-in
//!   [`functions`];
//! - [`format`] reads and writes rows as JSON, DELIMITED, KAFKA or NONE;
//! - [`planner`] compiles queries onto Brook Streams topologies;
//! - [`engine`] runs statements: the metastore ([`catalog`]), persistent and push queries;
//! - [`server`] serves ksqlDB's REST API.

pub mod ast;
pub mod catalog;
pub mod cluster;
pub mod engine;
pub mod error;
pub mod expr;
pub mod format;
pub mod functions;
pub mod lexer;
pub mod parser;
pub mod planner;
pub mod server;
pub use brook_time as time;
pub mod types;
pub mod value;

pub use error::SqlError;
