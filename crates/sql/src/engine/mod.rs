//! Runs statements: the metastore, persistent queries (one Brook Streams application each),
//! push and pull queries, `INSERT … VALUES`, and the command topic that keeps servers with
//! the same service id in step and lets persistent queries survive restarts.

mod commands;
pub mod entities;
mod queries;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use brook_client::{ClusterSettings, Quiet};
use brook_streams::runtime::{KafkaStreams, StreamsConfig};
use serde_json::{Value as Json, json};

pub use commands::Command;
pub use queries::{PullResult, PushQuery};

use crate::ast::{ExplainTarget, Properties, ShowWhat, SourceKind, Statement};
use crate::catalog::{Catalog, Source, WindowType};
use crate::cluster::Cluster;
use crate::error::{self, Result, SqlError};
use crate::expr::eval_constant;
use crate::format::{Format, RowFormat};
use crate::functions;
use crate::parser::parse_statement;
use crate::planner::{self, OutputSchema, QueryStore, Sink};
use crate::types::SqlType;
use crate::value::{Row, Value};
use commands::CommandLog;
use entities::*;

/// The version of ksqlDB's API this server speaks.
pub const KSQL_VERSION: &str = "0.29.0";

/// How an engine reaches its cluster and where it keeps state.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The cluster.
    pub cluster: ClusterSettings,
    /// `ksql.service.id`: servers with the same id share commands and queries.
    pub service_id: String,
    /// Where persistent queries keep their local state.
    pub state_dir: PathBuf,
    /// `commit.interval.ms` of persistent queries (ksqlDB's default: 2 s).
    pub commit_interval: Duration,
    /// `ksql.schema.registry.url`, for AVRO, PROTOBUF and JSON_SR.
    pub schema_registry_url: Option<String>,
}

impl EngineConfig {
    /// An engine on `cluster` with ksqlDB's defaults (service id `default_`).
    pub fn new(cluster: ClusterSettings, state_dir: impl Into<PathBuf>) -> Self {
        EngineConfig {
            cluster,
            service_id: "default_".to_string(),
            state_dir: state_dir.into(),
            commit_interval: Duration::from_secs(2),
            schema_registry_url: None,
        }
    }

    /// The command topic's name.
    pub fn command_topic(&self) -> String {
        format!("_confluent-ksql-{}_command_topic", self.service_id)
    }
}

/// Properties and variables of a request (or a shell session).
#[derive(Debug, Clone, Default)]
pub struct Session {
    /// `SET` properties and the request's `streamsProperties`.
    pub properties: BTreeMap<String, String>,
    /// `DEFINE`d variables.
    pub variables: BTreeMap<String, String>,
}

impl Session {
    /// A session with these properties.
    pub fn with_properties(properties: BTreeMap<String, String>) -> Self {
        Session {
            properties,
            variables: BTreeMap::new(),
        }
    }

    fn earliest(&self) -> bool {
        self.properties
            .get("auto.offset.reset")
            .or_else(|| self.properties.get("ksql.streams.auto.offset.reset"))
            .is_some_and(|v| v.eq_ignore_ascii_case("earliest"))
    }
}

/// A persistent query.
pub struct PersistentQuery {
    /// Its id (`CSAS_X_3`).
    pub id: String,
    /// Its statement.
    pub statement: String,
    /// The source it writes.
    pub sink: String,
    /// The sources it reads.
    pub sources: Vec<String>,
    /// Its output.
    pub schema: OutputSchema,
    /// Its aggregation store, for pull queries.
    pub store: Option<QueryStore>,
    /// Its topology, described.
    pub topology: String,
    /// The running application.
    pub streams: KafkaStreams,
    /// It materializes a `CREATE SOURCE TABLE` for pull queries (dropped with the table).
    pub materializes_source: bool,
}

pub(crate) struct State {
    pub catalog: Catalog,
    pub queries: BTreeMap<String, PersistentQuery>,
}

/// The engine. Concurrency: one per server; statements from any thread.
pub struct Engine {
    config: EngineConfig,
    cluster: Cluster,
    registry: Option<Arc<brook_registry::client::RegistryClient>>,
    state: Mutex<State>,
    log: Arc<CommandLog>,
    runner: Mutex<Option<std::thread::JoinHandle<()>>>,
    next_transient: std::sync::atomic::AtomicU64,
    /// Push queries running now: id → statement text, for `SHOW QUERIES`.
    push_queries: queries::PushQueries,
}

/// A statement that failed, with its text (ksqlDB's `statement_error`).
#[derive(Debug, Clone)]
pub struct StatementError {
    /// The error.
    pub error: SqlError,
    /// The statement's text.
    pub statement: String,
    /// Entities of the statements before it that succeeded.
    pub entities: Vec<Json>,
}

/// A statement ready to run, with its text after variable substitution.
pub struct Prepared {
    /// The statement's text.
    pub text: String,
    /// The statement.
    pub statement: Statement,
}

impl Engine {
    /// Connects to the cluster, replays the command topic and starts following it.
    pub fn start(config: EngineConfig) -> Result<Arc<Engine>> {
        let cluster = Cluster::connect(config.cluster.clone())?;
        let topic = config.command_topic();
        cluster.create_topic(
            &topic,
            1,
            1,
            &[("retention.ms", "-1"), ("cleanup.policy", "delete")],
        )?;
        let registry = config
            .schema_registry_url
            .as_deref()
            .map(|url| Arc::new(brook_registry::client::RegistryClient::new(url)));
        let engine = Arc::new(Engine {
            config,
            cluster,
            registry,
            state: Mutex::new(State {
                catalog: Catalog::default(),
                queries: BTreeMap::new(),
            }),
            log: Arc::new(CommandLog::default()),
            runner: Mutex::new(None),
            next_transient: std::sync::atomic::AtomicU64::new(1),
            push_queries: queries::PushQueries::default(),
        });
        let consumer = engine
            .config
            .cluster
            .create::<rdkafka::consumer::BaseConsumer<Quiet>, _>(
                &[
                    (
                        "group.id",
                        &format!("_confluent-ksql-{}command-runner", engine.config.service_id),
                    ),
                    ("enable.auto.commit", "false"),
                    ("isolation.level", "read_committed"),
                ],
                Quiet,
            )
            .map_err(|e| SqlError::server(e.to_string()))?;
        let log = engine.log.clone();
        let weak = Arc::downgrade(&engine);
        let handle = std::thread::Builder::new()
            .name("ksql-command-runner".into())
            .spawn(move || {
                commands::run(log, consumer, topic, move |offset, command| {
                    match weak.upgrade() {
                        Some(engine) => engine.apply(offset, command),
                        None => Err(SqlError::server("the engine has stopped")),
                    }
                })
            })
            .map_err(|e| SqlError::server(e.to_string()))?;
        *engine.runner.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
        if !engine.log.wait_caught_up(Duration::from_secs(120)) {
            return Err(SqlError::server("timed out replaying the command topic"));
        }
        Ok(engine)
    }

    /// Stops following the command topic and closes every persistent query (their state
    /// and offsets are committed; they resume at the next start).
    pub fn shutdown(&self) {
        self.log.stop.store(true, Ordering::Release);
        if let Some(h) = self.runner.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = h.join();
        }
        let queries = std::mem::take(&mut self.lock().queries);
        for (_, mut q) in queries {
            if let Err(e) = q.streams.close() {
                tracing::warn!(query = %q.id, %e, "closing a query");
            }
            tracing::info!(
                query = %q.id,
                processed = q.streams.processed_records(),
                restored = q.streams.restored_records(),
                "query closed: processed {} records, restored {} changelog records",
                q.streams.processed_records(),
                q.streams.restored_records()
            );
        }
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The cluster.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A snapshot of the metastore.
    pub fn catalog(&self) -> Catalog {
        self.lock().catalog.clone()
    }

    /// Whether the commands that existed at start have been applied.
    pub fn is_caught_up(&self) -> bool {
        self.log
            .progress
            .lock()
            .map(|p| p.caught_up)
            .unwrap_or(false)
    }

    /// Ids of the running persistent queries.
    pub fn query_ids(&self) -> Vec<String> {
        self.lock().queries.keys().cloned().collect()
    }

    /// Parses one statement after substituting `${variables}`.
    pub fn prepare(&self, text: &str, session: &Session) -> Result<Prepared> {
        let text = substitute(text, &session.variables)?;
        let statement = parse_statement(&text)?;
        Ok(Prepared { text, statement })
    }

    /// Runs the statements of a request (`/ksql`): the entities of each, or the first error.
    pub fn execute(
        &self,
        script: &str,
        session: &mut Session,
    ) -> std::result::Result<Vec<Json>, StatementError> {
        let mut entities = Vec::new();
        for text in crate::lexer::split_statements(script) {
            let fail = |error: SqlError, entities: Vec<Json>| StatementError {
                error,
                statement: format!("{text};"),
                entities,
            };
            let prepared = match self.prepare(&text, session) {
                Ok(p) => p,
                Err(e) => return Err(fail(e, entities)),
            };
            match self.execute_prepared(&prepared, session) {
                Ok(Some(entity)) => entities.push(entity),
                Ok(None) => {}
                Err(e) => return Err(fail(e, entities)),
            }
        }
        Ok(entities)
    }

    /// Runs one statement; None for statements without an entity (SET, INSERT … VALUES).
    pub fn execute_prepared(
        &self,
        prepared: &Prepared,
        session: &mut Session,
    ) -> Result<Option<Json>> {
        let text = format!("{};", prepared.text.trim_end_matches(';'));
        match &prepared.statement {
            Statement::Select(_) | Statement::Print { .. } => Err(SqlError {
                code: error::QUERY_ENDPOINT,
                message: "The following statement types should be issued to the websocket endpoint '/query':\n\t* PRINT\n\t* SELECT".into(),
            }),
            Statement::Set(name, value) => {
                session.properties.insert(name.clone(), value.clone());
                Ok(None)
            }
            Statement::Unset(name) => {
                session.properties.remove(name);
                Ok(None)
            }
            Statement::Define(name, value) => {
                session.variables.insert(name.clone(), value.clone());
                Ok(None)
            }
            Statement::Undefine(name) => {
                session.variables.remove(name);
                Ok(None)
            }
            Statement::RunScript(_) => Err(SqlError::statement(
                "RUN SCRIPT is a command of the shell (brook sql), not of the server",
            )),
            Statement::Show { what, extended } => self.show(*what, *extended, &text, session).map(Some),
            Statement::Describe { name, all, extended } => self.describe(name.as_deref(), *all, *extended, &text).map(Some),
            Statement::DescribeFunction(name) => describe_function(name, &text).map(Some),
            Statement::Explain(target) => self.explain(target, &text).map(Some),
            Statement::InsertValues { target, columns, values } => {
                self.insert_values(target, columns.as_deref(), values)?;
                Ok(None)
            }
            Statement::CreateSource { .. }
            | Statement::CreateAsSelect { .. }
            | Statement::InsertSelect { .. }
            | Statement::Drop { .. }
            | Statement::Terminate(_) => self.submit(&prepared.statement, &text, session).map(Some),
        }
    }

    /// Validates a command, does its one-time effects on the cluster (creating or deleting
    /// topics), writes it to the command topic and waits until it is applied here.
    fn submit(&self, statement: &Statement, text: &str, session: &Session) -> Result<Json> {
        let command_id = {
            let state = self.lock();
            match statement {
                Statement::CreateSource { .. } => {
                    let source = source_of_create(statement, text, self.registry.as_ref())?;
                    self.ensure_source_topic(statement, &source)?;
                    format!("{}/`{}`/create", command_kind(source.kind), source.name)
                }
                Statement::CreateAsSelect { name, kind, .. } => {
                    // Planning checks the query; the sink topic is created here, once.
                    let (source, _) = self.plan_persistent(&state, statement, text)?;
                    if self.cluster.topic(&source.topic)?.is_none() {
                        let (partitions, replicas) =
                            self.sink_partitions(&state.catalog, statement)?;
                        self.cluster
                            .create_topic(&source.topic, partitions, replicas, &[])?;
                    }
                    format!("{}/`{name}`/create", command_kind(*kind))
                }
                Statement::InsertSelect { target, .. } => {
                    self.plan_persistent(&state, statement, text)?;
                    format!("stream/`{target}`/create")
                }
                Statement::Drop {
                    kind,
                    if_exists,
                    name,
                    delete_topic,
                } => {
                    match state.catalog.get(name) {
                        None if *if_exists => {
                            return Ok(current_status(
                                text,
                                &format!("{}/`{name}`/drop", command_kind(*kind)),
                                &format!("Source `{name}` does not exist."),
                                None,
                                -1,
                            ));
                        }
                        None => {
                            return Err(SqlError::statement(format!(
                                "Source {name} does not exist."
                            )));
                        }
                        Some(s) => {
                            check_drop(&state, s, *kind)?;
                            if *delete_topic {
                                self.cluster.delete_topic(&s.topic)?;
                            }
                        }
                    }
                    format!("{}/`{name}`/drop", command_kind(*kind))
                }
                Statement::Terminate(id) => {
                    if let Some(id) = id {
                        if !state.queries.contains_key(id) {
                            return Err(SqlError::statement(format!("Unknown queryId: {id}")));
                        }
                    }
                    format!("terminate/{}/execute", id.as_deref().unwrap_or("ALL"))
                }
                _ => unreachable!("only commands are submitted"),
            }
        };
        let command = Command {
            statement: text.to_string(),
            properties: session.properties.clone(),
        };
        let payload = serde_json::to_vec(&command).map_err(|e| SqlError::server(e.to_string()))?;
        let (_, offset) = self.cluster.produce(
            &self.config.command_topic(),
            Some(command_id.as_bytes()),
            Some(&payload),
            None,
        )?;
        let (message, query_id) = self.log.wait_for(offset, Duration::from_secs(60))?;
        Ok(current_status(
            text,
            &command_id,
            &message,
            query_id.as_deref(),
            offset + 1,
        ))
    }

    /// Applies a command read from the command topic.
    fn apply(&self, offset: i64, command: Command) -> commands::Outcome {
        let statement = parse_statement(&command.statement)?;
        let session = Session::with_properties(command.properties.clone());
        let text = command.statement.as_str();
        let mut state = self.lock();
        match &statement {
            Statement::CreateSource {
                kind,
                or_replace,
                if_not_exists,
                name,
                ..
            } => {
                if state.catalog.get(name).is_some() {
                    if *if_not_exists {
                        return Ok((
                            format!(
                                "A {} with the same name already exists",
                                kind.name().to_lowercase()
                            ),
                            None,
                        ));
                    }
                    if !or_replace {
                        return Err(SqlError::statement(format!(
                            "Cannot add {} '{name}': A {} with the same name already exists",
                            kind.name().to_lowercase(),
                            state.catalog.get(name).map_or("source", |s| {
                                if s.kind == SourceKind::Stream {
                                    "stream"
                                } else {
                                    "table"
                                }
                            })
                        )));
                    }
                }
                let mut source = source_of_create(&statement, text, self.registry.as_ref())?;
                if let Some(mut old) = state.queries.remove(&format!("CST_{name}")) {
                    let _ = old.streams.close();
                }
                if source.read_only && *kind == SourceKind::Table {
                    // A source table is materialized by a query of its own, for pull queries.
                    let id = format!("CST_{name}");
                    state
                        .catalog
                        .sources
                        .insert(source.name.clone(), source.clone());
                    let planned = match self.plan_source_table(&state, name) {
                        Ok(p) => p,
                        Err(e) => {
                            state.catalog.sources.remove(name);
                            return Err(e);
                        }
                    };
                    let earliest = Session::with_properties(BTreeMap::from([(
                        "auto.offset.reset".to_string(),
                        "earliest".to_string(),
                    )]));
                    let mut query = self.start_query(&id, text, name, planned, &earliest)?;
                    query.materializes_source = true;
                    source.written_by = Some(id.clone());
                    state.queries.insert(id.clone(), query);
                }
                state.catalog.sources.insert(source.name.clone(), source);
                Ok((
                    format!(
                        "{} created",
                        if *kind == SourceKind::Stream {
                            "Stream"
                        } else {
                            "Table"
                        }
                    ),
                    None,
                ))
            }
            Statement::CreateAsSelect {
                name,
                kind,
                if_not_exists,
                or_replace,
                ..
            } => {
                if let Some(existing) = state.catalog.get(name) {
                    if *if_not_exists {
                        return Ok((
                            format!(
                                "A {} with the same name already exists",
                                existing.kind.name().to_lowercase()
                            ),
                            None,
                        ));
                    }
                    if !or_replace || existing.written_by.is_none() {
                        return Err(SqlError::statement(format!(
                            "Cannot add {} '{name}': A {} with the same name already exists",
                            kind.name().to_lowercase(),
                            existing.kind.name().to_lowercase()
                        )));
                    }
                    // OR REPLACE: the old query stops; the new one takes its place.
                    if let Some(old) = existing.written_by.clone() {
                        if let Some(mut q) = state.queries.remove(&old) {
                            let _ = q.streams.close();
                        }
                    }
                }
                let prefix = if *kind == SourceKind::Stream {
                    "CSAS"
                } else {
                    "CTAS"
                };
                let id = format!("{prefix}_{name}_{}", offset + 1);
                let (mut source, planned) = self.plan_persistent(&state, &statement, text)?;
                source.written_by = Some(id.clone());
                let query = self.start_query(&id, text, &source.name, planned, &session)?;
                state.catalog.sources.insert(source.name.clone(), source);
                state.queries.insert(id.clone(), query);
                Ok((format!("Created query with ID {id}"), Some(id)))
            }
            Statement::InsertSelect {
                target, properties, ..
            } => {
                let id = match properties.get("QUERY_ID") {
                    Some(v) => v.to_text().to_uppercase(),
                    None => format!("INSERTQUERY_{}", offset + 1),
                };
                if state.queries.contains_key(&id) {
                    return Err(SqlError::statement(format!(
                        "Query with id {id} already exists"
                    )));
                }
                let (_, planned) = self.plan_persistent(&state, &statement, text)?;
                let query = self.start_query(&id, text, target, planned, &session)?;
                state.queries.insert(id.clone(), query);
                Ok((format!("Created query with ID {id}"), Some(id)))
            }
            Statement::Drop { kind, name, .. } => {
                let Some(source) = state.catalog.get(name) else {
                    return Ok((format!("Source `{name}` does not exist."), None));
                };
                check_drop(&state, source, *kind)?;
                let topic = source.topic.clone();
                if let Some(mut q) = state.queries.remove(&format!("CST_{name}")) {
                    let _ = q.streams.close();
                }
                state.catalog.sources.remove(name);
                Ok((
                    format!("Source `{name}` (topic: {topic}) was dropped."),
                    None,
                ))
            }
            Statement::Terminate(id) => {
                let ids: Vec<String> = match id {
                    Some(id) => vec![id.clone()],
                    None => state.queries.keys().cloned().collect(),
                };
                for id in ids {
                    if let Some(mut q) = state.queries.remove(&id) {
                        if let Err(e) = q.streams.close() {
                            tracing::warn!(query = %id, %e, "closing a terminated query");
                        }
                        for s in state.catalog.sources.values_mut() {
                            if s.written_by.as_deref() == Some(id.as_str()) {
                                s.written_by = None;
                            }
                        }
                    }
                }
                Ok(("Query terminated.".into(), None))
            }
            other => Err(SqlError::statement(format!("not a command: {other:?}"))),
        }
    }

    /// Creates the topic of a `CREATE STREAM|TABLE` when `PARTITIONS` is given and it does
    /// not exist; otherwise the topic must exist.
    fn ensure_source_topic(&self, statement: &Statement, source: &Source) -> Result<()> {
        let Statement::CreateSource { properties, .. } = statement else {
            return Ok(());
        };
        if self.cluster.topic(&source.topic)?.is_some() {
            return Ok(());
        }
        match properties.get("PARTITIONS") {
            Some(p) => {
                let partitions = p
                    .as_i64()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| SqlError::statement("PARTITIONS must be a positive integer"))?;
                let replicas = properties
                    .get("REPLICAS")
                    .and_then(Value::as_i64)
                    .unwrap_or(1);
                self.cluster
                    .create_topic(&source.topic, partitions as i32, replicas as i32, &[])
            }
            None => Err(SqlError::statement(format!(
                "Topic '{}' does not exist. If you want to create a new topic for the stream/table please re-run the statement providing the required 'PARTITIONS' configuration in the WITH clause (and optionally 'REPLICAS'). For example: CREATE STREAM {} (...) WITH (KAFKA_TOPIC='{}', PARTITIONS=2, REPLICAS=1, ...);",
                source.topic, source.name, source.topic
            ))),
        }
    }

    /// Partitions and replicas of a CSAS/CTAS sink: `PARTITIONS`/`REPLICAS`, or the first
    /// source topic's.
    fn sink_partitions(&self, catalog: &Catalog, statement: &Statement) -> Result<(i32, i32)> {
        let Statement::CreateAsSelect {
            properties, query, ..
        } = statement
        else {
            return Ok((1, 1));
        };
        let first = first_source(&query.from);
        let topic = catalog.get(first).map(|s| s.topic.clone());
        let info = match topic {
            Some(t) => self.cluster.topic(&t)?,
            None => None,
        };
        let partitions = properties
            .get("PARTITIONS")
            .and_then(Value::as_i64)
            .map(|p| p as i32)
            .or(info.as_ref().map(|i| i.replicas.len() as i32))
            .unwrap_or(1);
        let replicas = properties
            .get("REPLICAS")
            .and_then(Value::as_i64)
            .map(|r| r as i32)
            .or(info
                .as_ref()
                .and_then(|i| i.replicas.first().map(|r| *r as i32)))
            .unwrap_or(1);
        Ok((partitions.max(1), replicas.max(1)))
    }

    /// Plans a CSAS / CTAS / INSERT INTO … SELECT: the sink source and the compiled query.
    fn plan_persistent(
        &self,
        state: &State,
        statement: &Statement,
        text: &str,
    ) -> Result<(Source, planner::Planned)> {
        match statement {
            Statement::CreateAsSelect {
                kind,
                name,
                properties,
                query,
                ..
            } => {
                let mut target: Option<Source> = None;
                let planned = planner::plan(&state.catalog, query, "Aggregate-", |schema| {
                    if !schema.missing_keys.is_empty() {
                        return Err(SqlError::statement(format!(
                            "Key missing from projection (ie, SELECT).\nThe query used to build `{name}` must include the {} {} in its projection (eg, SELECT {}...).",
                            if schema.missing_keys.len() == 1 {
                                "key column"
                            } else {
                                "key columns"
                            },
                            schema.missing_keys.join(" and "),
                            schema.missing_keys.join(", ")
                        )));
                    }
                    if let Some((n, _)) = schema.columns.iter().find(|(_, t)| *t == SqlType::Null) {
                        return Err(SqlError::statement(format!(
                            "Can't infer a type of null. Please explicitly cast it to a required type, e.g. CAST(null AS VARCHAR). (column {n})"
                        )));
                    }
                    match (kind, schema.kind) {
                        (SourceKind::Table, SourceKind::Stream) => {
                            return Err(SqlError::statement(
                                "Invalid result type. Your SELECT query produces a STREAM. Please use CREATE STREAM AS SELECT statement instead.",
                            ));
                        }
                        (SourceKind::Stream, SourceKind::Table) => {
                            return Err(SqlError::statement(
                                "Invalid result type. Your SELECT query produces a TABLE. Please use CREATE TABLE AS SELECT statement instead.",
                            ));
                        }
                        _ => {}
                    }
                    let source = sink_source(
                        &state.catalog,
                        self.registry.as_ref(),
                        name,
                        *kind,
                        properties,
                        query,
                        schema,
                        text,
                    )?;
                    target = Some(source.clone());
                    Ok(Sink::Topic(Box::new(source)))
                })?;
                Ok((target.expect("the sink was built"), planned))
            }
            Statement::InsertSelect { target, query, .. } => {
                let Some(sink) = state.catalog.get(target).cloned() else {
                    return Err(SqlError::statement(format!(
                        "Source {target} does not exist."
                    )));
                };
                if sink.kind != SourceKind::Stream {
                    return Err(SqlError::statement(format!(
                        "INSERT INTO can only be used to insert into a stream. {target} is a table."
                    )));
                }
                if sink.read_only {
                    return Err(SqlError::statement(format!(
                        "Cannot insert into read-only stream: {target}"
                    )));
                }
                let sink2 = sink.clone();
                let planned = planner::plan(&state.catalog, query, "Aggregate-", |schema| {
                    let same = schema
                        .key_columns()
                        .iter()
                        .map(|(_, t)| t)
                        .eq(sink2.key_columns.iter().map(|(_, t)| t))
                        && schema
                            .value_columns()
                            .iter()
                            .map(|(_, t)| t)
                            .eq(sink2.value_columns.iter().map(|(_, t)| t));
                    if !same || schema.kind != SourceKind::Stream {
                        return Err(SqlError::statement(format!(
                            "Incompatible schema between results and sink.\nResult schema is {}\nSink schema is {}",
                            schema_text(&schema.columns),
                            schema_text(
                                &sink2
                                    .key_columns
                                    .iter()
                                    .chain(&sink2.value_columns)
                                    .cloned()
                                    .collect::<Vec<_>>()
                            )
                        )));
                    }
                    Ok(Sink::Topic(Box::new(sink2.clone())))
                })?;
                Ok((sink, planned))
            }
            _ => Err(SqlError::statement("not a persistent query")),
        }
    }

    /// The query that keeps a `CREATE SOURCE TABLE` in a store: `SELECT * FROM name`.
    fn plan_source_table(&self, state: &State, name: &str) -> Result<planner::Planned> {
        let Statement::Select(query) =
            parse_statement(&format!("SELECT * FROM `{name}` EMIT CHANGES;"))?
        else {
            unreachable!("a SELECT parses as a SELECT")
        };
        planner::plan(&state.catalog, &query, "", |_| Ok(Sink::Store))
    }

    fn streams_config(&self, application_id: &str, session: &Session) -> StreamsConfig {
        let mut config = StreamsConfig::new(application_id, self.config.cluster.clone())
            .with_state_dir(self.config.state_dir.clone())
            .with_commit_interval(self.config.commit_interval);
        if session
            .properties
            .get("processing.guarantee")
            .is_some_and(|g| g.starts_with("exactly_once"))
        {
            config = config.exactly_once();
        }
        config
    }

    /// Where a query's application starts reading its sources: under `auto.offset.reset =
    /// latest` (ksqlDB's default) its group's offsets are set to the sources' ends before it
    /// first starts, so that it sees exactly what is written after the statement — and its
    /// internal topics are still read from their beginning. A group that has offsets
    /// already (a restarted persistent query) keeps them.
    fn set_start_offsets(
        &self,
        application_id: &str,
        sources: &[String],
        session: &Session,
    ) -> Result<()> {
        if session.earliest() {
            return Ok(());
        }
        use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
        let topics: Vec<String> = {
            let state = self.lock();
            sources
                .iter()
                .filter_map(|s| state.catalog.get(s).map(|s| s.topic.clone()))
                .collect()
        };
        let consumer: BaseConsumer<Quiet> = self
            .config
            .cluster
            .create(
                &[
                    ("group.id", application_id),
                    ("enable.auto.commit", "false"),
                ],
                Quiet,
            )
            .map_err(|e| SqlError::server(e.to_string()))?;
        let timeout = Duration::from_secs(10);
        let mut ends = rdkafka::TopicPartitionList::new();
        for topic in &topics {
            let partitions = self.cluster.topic(topic)?.map_or(0, |t| t.replicas.len());
            for p in 0..partitions as i32 {
                let (_, high) = consumer.fetch_watermarks(topic, p, timeout).map_err(|e| {
                    SqlError::server(format!("cannot read the end of {topic}: {e}"))
                })?;
                ends.add_partition_offset(topic, p, rdkafka::Offset::Offset(high))
                    .map_err(|e| SqlError::server(e.to_string()))?;
            }
        }
        if ends.count() == 0 {
            return Ok(());
        }
        let committed = consumer
            .committed_offsets(ends.clone(), timeout)
            .map_err(|e| {
                SqlError::server(format!("cannot read the offsets of {application_id}: {e}"))
            })?;
        if committed
            .elements()
            .iter()
            .any(|e| matches!(e.offset(), rdkafka::Offset::Offset(_)))
        {
            return Ok(());
        }
        consumer
            .commit(&ends, CommitMode::Sync)
            .map_err(|e| SqlError::server(format!("cannot set where {application_id} starts: {e}")))
    }

    fn start_query(
        &self,
        id: &str,
        text: &str,
        sink: &str,
        planned: planner::Planned,
        session: &Session,
    ) -> Result<PersistentQuery> {
        let app = format!("_confluent-ksql-{}query_{id}", self.config.service_id);
        self.set_start_offsets(&app, &planned.sources, session)?;
        let topology = planned.topology.describe();
        let mut streams = KafkaStreams::new(planned.topology, self.streams_config(&app, session));
        streams
            .start()
            .map_err(|e| SqlError::server(format!("Could not start query {id}: {e}")))?;
        Ok(PersistentQuery {
            id: id.to_string(),
            statement: text.to_string(),
            sink: sink.to_string(),
            sources: planned.sources,
            schema: planned.schema,
            store: planned.store,
            topology,
            streams,
            materializes_source: false,
        })
    }

    fn show(&self, what: ShowWhat, extended: bool, text: &str, session: &Session) -> Result<Json> {
        let state = self.lock();
        Ok(match what {
            ShowWhat::Streams | ShowWhat::Tables => {
                let kind = if what == ShowWhat::Streams {
                    SourceKind::Stream
                } else {
                    SourceKind::Table
                };
                let list: Vec<Json> = state
                    .catalog
                    .sources
                    .values()
                    .filter(|s| s.kind == kind)
                    .map(|s| {
                        if extended {
                            self.description_of(&state, s, true)
                        } else {
                            source_summary(s)
                        }
                    })
                    .collect();
                match (kind, extended) {
                    (_, true) => {
                        json!({"@type": "source_descriptions", "statementText": text, "sourceDescriptions": list, "warnings": []})
                    }
                    (SourceKind::Stream, false) => {
                        json!({"@type": "streams", "statementText": text, "streams": list, "warnings": []})
                    }
                    (SourceKind::Table, false) => {
                        json!({"@type": "tables", "statementText": text, "tables": list, "warnings": []})
                    }
                }
            }
            ShowWhat::Topics { all } => {
                drop(state);
                let topics: Vec<Json> = self
                    .cluster
                    .topics(all)?
                    .into_iter()
                    .map(|t| json!({"name": t.name, "replicaInfo": t.replicas}))
                    .collect();
                json!({"@type": "kafka_topics", "statementText": text, "topics": topics, "warnings": []})
            }
            ShowWhat::Queries => {
                let mut queries: Vec<Json> =
                    state.queries.values().map(|q| running(&state, q)).collect();
                queries.extend(self.push_queries.list().into_iter().map(|(id, statement)| {
                    let mut q = running_query(&id, &statement, None, "RUNNING");
                    q["queryType"] = json!("PUSH");
                    q
                }));
                json!({"@type": "queries", "statementText": text, "queries": queries, "warnings": []})
            }
            ShowWhat::Properties => {
                let mut props = vec![
                    ("ksql.service.id", self.config.service_id.clone()),
                    (
                        "ksql.streams.bootstrap.servers",
                        self.config.cluster.bootstrap_servers.clone(),
                    ),
                    (
                        "ksql.streams.commit.interval.ms",
                        self.config.commit_interval.as_millis().to_string(),
                    ),
                    ("ksql.streams.auto.offset.reset", "latest".to_string()),
                    (
                        "ksql.streams.state.dir",
                        self.config.state_dir.display().to_string(),
                    ),
                    ("ksql.persistence.default.format.key", "KAFKA".to_string()),
                ];
                let overwritten: Vec<String> = session.properties.keys().cloned().collect();
                for (k, v) in &session.properties {
                    props.retain(|(n, _)| {
                        n.trim_start_matches("ksql.streams.")
                            != k.trim_start_matches("ksql.streams.")
                    });
                    props.push((k.as_str(), v.clone()));
                }
                let list: Vec<Json> = props
                    .iter()
                    .map(|(n, v)| json!({"name": n, "scope": "KSQL", "value": v}))
                    .collect();
                json!({"@type": "properties", "statementText": text, "properties": list, "overwrittenProperties": overwritten, "defaultProperties": [], "warnings": []})
            }
            ShowWhat::Functions => {
                let mut list: Vec<Json> = functions::scalars()
                    .iter()
                    .map(|f| json!({"name": f.name, "type": "SCALAR", "category": f.category}))
                    .chain(functions::aggregates().iter().map(
                        |a| json!({"name": a.name, "type": "AGGREGATE", "category": "AGGREGATE"}),
                    ))
                    .collect();
                list.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
                json!({"@type": "function_names", "statementText": text, "functions": list, "warnings": []})
            }
            ShowWhat::Variables => {
                let list: Vec<Json> = session
                    .variables
                    .iter()
                    .map(|(k, v)| json!({"name": k, "value": v}))
                    .collect();
                json!({"@type": "variables", "statementText": text, "variables": list, "warnings": []})
            }
        })
    }

    fn description_of(&self, state: &State, s: &Source, extended: bool) -> Json {
        let reads: Vec<Json> = state
            .queries
            .values()
            .filter(|q| q.sources.contains(&s.name) && !q.materializes_source)
            .map(|q| running(state, q))
            .collect();
        let writes: Vec<Json> = state
            .queries
            .values()
            .filter(|q| q.sink == s.name)
            .map(|q| running(state, q))
            .collect();
        let (partitions, replication, statistics) = if extended {
            let info = self.cluster.topic(&s.topic).ok().flatten();
            let processed: u64 = state
                .queries
                .values()
                .filter(|q| q.sink == s.name)
                .map(|q| q.streams.processed_records())
                .sum();
            (
                info.as_ref().map_or(0, |i| i.replicas.len()),
                info.as_ref()
                    .and_then(|i| i.replicas.first().copied())
                    .unwrap_or(0),
                format!("records-processed: {processed}"),
            )
        } else {
            (0, 0, String::new())
        };
        source_description(
            s,
            extended,
            reads,
            writes,
            partitions,
            replication,
            &statistics,
        )
    }

    fn describe(
        &self,
        name: Option<&str>,
        all: Option<SourceKind>,
        extended: bool,
        text: &str,
    ) -> Result<Json> {
        let state = self.lock();
        if let Some(kind) = all {
            let list: Vec<Json> = state
                .catalog
                .sources
                .values()
                .filter(|s| s.kind == kind)
                .map(|s| self.description_of(&state, s, extended))
                .collect();
            return Ok(
                json!({"@type": "source_descriptions", "statementText": text, "sourceDescriptions": list, "warnings": []}),
            );
        }
        let name = name.unwrap_or_default();
        let Some(source) = state.catalog.get(name) else {
            return Err(SqlError::statement(format!(
                "Could not find STREAM/TABLE '{name}' in the Metastore"
            )));
        };
        Ok(json!({
            "@type": "sourceDescription",
            "statementText": text,
            "sourceDescription": self.description_of(&state, source, extended),
            "warnings": []
        }))
    }

    fn explain(&self, target: &ExplainTarget, text: &str) -> Result<Json> {
        let state = self.lock();
        match target {
            ExplainTarget::QueryId(id) => {
                let Some(q) = state.queries.get(id) else {
                    return Err(SqlError::statement(format!(
                        "Query with id:{id} does not exist, use SHOW QUERIES to view the full set of queries."
                    )));
                };
                Ok(json!({
                    "@type": "queryDescription",
                    "statementText": text,
                    "queryDescription": {
                        "id": q.id,
                        "statementText": q.statement,
                        "windowType": window_name(q.schema.window),
                        "fields": q.schema.columns.iter().map(|(n, t)| json!({"name": n, "schema": schema_json(t)})).collect::<Vec<_>>(),
                        "sources": q.sources,
                        "sinks": [q.sink],
                        "topology": q.topology,
                        "executionPlan": q.statement,
                        "overriddenProperties": {},
                        "ksqlHostQueryStatus": {},
                        "queryType": "PERSISTENT",
                        "state": query_state(q)
                    },
                    "warnings": []
                }))
            }
            ExplainTarget::Statement(statement) => {
                let Statement::Select(query) = &**statement else {
                    return Err(SqlError::statement(
                        "EXPLAIN explains a query id or a SELECT",
                    ));
                };
                let planned = planner::plan(&state.catalog, query, "Aggregate-", |_| {
                    Ok(Sink::Rows(Arc::new(|_| {})))
                })?;
                Ok(json!({
                    "@type": "queryDescription",
                    "statementText": text,
                    "queryDescription": {
                        "id": "",
                        "statementText": text,
                        "windowType": window_name(planned.schema.window),
                        "fields": planned.schema.columns.iter().map(|(n, t)| json!({"name": n, "schema": schema_json(t)})).collect::<Vec<_>>(),
                        "sources": planned.sources,
                        "sinks": [],
                        "topology": planned.topology.describe(),
                        "executionPlan": text,
                        "overriddenProperties": {},
                        "queryType": "PUSH",
                        "state": "UNKNOWN"
                    },
                    "warnings": []
                }))
            }
        }
    }

    /// `INSERT INTO target [(cols)] VALUES (…)`: one record written to the target's topic.
    pub fn insert_values(
        &self,
        target: &str,
        columns: Option<&[String]>,
        values: &[crate::ast::Expr],
    ) -> Result<()> {
        let source = self.lock().catalog.get(target).cloned().ok_or_else(|| {
            SqlError::statement(format!(
                "Cannot insert values into an unknown stream/table: {target}"
            ))
        })?;
        if source.read_only {
            return Err(SqlError::statement(format!(
                "Cannot insert values into read-only source: {target}"
            )));
        }
        if source.window.is_some() {
            return Err(SqlError::statement(format!(
                "Cannot insert values into windowed source: {target}"
            )));
        }
        let all: Vec<String> = source
            .key_columns
            .iter()
            .chain(&source.value_columns)
            .map(|(n, _)| n.clone())
            .collect();
        let names: Vec<String> = match columns {
            Some(c) => c.to_vec(),
            None => all.clone(),
        };
        if names.len() != values.len() {
            return Err(SqlError::statement(format!(
                "Expected a value for each column. Expected Columns: [{}]. Got {}",
                names.join(", "),
                values
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let mut given: BTreeMap<String, Value> = BTreeMap::new();
        let mut rowtime = None;
        for (name, expr) in names.iter().zip(values) {
            let (value, _) = eval_constant(expr)?;
            if name == crate::catalog::ROWTIME {
                rowtime = value.as_i64();
                continue;
            }
            if !all.contains(name) {
                return Err(SqlError::statement(format!(
                    "Column name {name} does not exist."
                )));
            }
            given.insert(name.clone(), value);
        }
        let coerce = |cols: &[(String, SqlType)]| -> Result<Row> {
            cols.iter()
                .map(|(n, t)| {
                    let v = given.get(n).cloned().unwrap_or(Value::Null);
                    if v.is_null() {
                        return Ok(v);
                    }
                    let c = coerce_literal(v.clone(), t);
                    if c.is_null() {
                        return Err(SqlError::statement(format!(
                            "Failed to insert values into '{target}'. Expected type {t} for column {n} but got {v}"
                        )));
                    }
                    Ok(c)
                })
                .collect()
        };
        let key = coerce(&source.key_columns)?;
        let value = coerce(&source.value_columns)?;
        if source.kind == SourceKind::Table && key.iter().any(Value::is_null) {
            return Err(SqlError::statement(format!(
                "Failed to insert values into '{target}'. Value for primary key column(s) {} is required for tables",
                source
                    .key_columns
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let key_bytes = if key.iter().all(Value::is_null) {
            None
        } else {
            Some(source.key_serde().0.write(&key).map_err(|e| {
                SqlError::statement(format!("Failed to insert values into '{target}': {e}"))
            })?)
        };
        let value_bytes = source.value_serde().0.write(&value).map_err(|e| {
            SqlError::statement(format!("Failed to insert values into '{target}': {e}"))
        })?;
        self.cluster.produce(
            &source.topic,
            key_bytes.as_deref(),
            Some(&value_bytes),
            rowtime,
        )?;
        Ok(())
    }

    /// A fresh id for a transient query.
    fn transient_id(&self) -> String {
        let n = self.next_transient.fetch_add(1, Ordering::Relaxed);
        format!(
            "transient_{}_{}_{n}",
            self.config.service_id.trim_end_matches('_'),
            crate::time::now_millis()
        )
    }
}

/// A persistent query as `SHOW QUERIES` and `DESCRIBE` list it.
fn running(state: &State, q: &PersistentQuery) -> Json {
    running_query(
        &q.id,
        &q.statement,
        state.catalog.get(&q.sink),
        &query_state(q),
    )
}

fn query_state(q: &PersistentQuery) -> String {
    use brook_streams::runtime::StreamsState as S;
    match q.streams.state() {
        S::Created | S::Rebalancing | S::Running => "RUNNING",
        S::NotRunning => "NOT_RUNNING",
        S::Error => "ERROR",
    }
    .to_string()
}

/// Literal values converted to a column's type (`INSERT … VALUES`).
fn coerce_literal(v: Value, ty: &SqlType) -> Value {
    match (&v, ty) {
        (Value::String(s), SqlType::Timestamp) => {
            crate::time::parse_timestamp_text(s).map_or(Value::Null, Value::Timestamp)
        }
        (Value::Bigint(t) | Value::Timestamp(t), SqlType::Timestamp) => Value::Timestamp(*t),
        (Value::Int(t), SqlType::Timestamp) => Value::Timestamp(i64::from(*t)),
        (Value::Double(_) | Value::Decimal(..), SqlType::Int | SqlType::Bigint) => Value::Null,
        (
            Value::String(_),
            SqlType::Int
            | SqlType::Bigint
            | SqlType::Double
            | SqlType::Decimal(..)
            | SqlType::Boolean,
        ) => Value::Null,
        _ => crate::expr::cast(v, ty),
    }
}

fn check_drop(state: &State, s: &Source, kind: SourceKind) -> Result<()> {
    if s.kind != kind {
        return Err(SqlError::statement(format!(
            "Incompatible data source type is {}, but statement was DROP {}",
            s.kind.name(),
            kind.name()
        )));
    }
    let writers: Vec<&str> = state
        .queries
        .values()
        .filter(|q| q.sink == s.name && !q.materializes_source)
        .map(|q| q.id.as_str())
        .collect();
    let readers: Vec<&str> = state
        .queries
        .values()
        .filter(|q| q.sources.contains(&s.name) && !q.materializes_source)
        .map(|q| q.id.as_str())
        .collect();
    if !writers.is_empty() || !readers.is_empty() {
        let mut parts = Vec::new();
        if !writers.is_empty() {
            parts.push(format!(
                "The following queries write into this source: [{}].",
                writers.join(", ")
            ));
        }
        if !readers.is_empty() {
            parts.push(format!(
                "The following queries read from this source: [{}].",
                readers.join(", ")
            ));
        }
        return Err(SqlError::statement(format!(
            "Cannot drop {}.\n{}\nYou need to terminate them before dropping {}.",
            s.name,
            parts.join("\n"),
            s.name
        )));
    }
    Ok(())
}

fn first_source(rel: &crate::ast::Relation) -> &str {
    match rel {
        crate::ast::Relation::Source { name, .. } => name,
        crate::ast::Relation::Join { left, .. } => first_source(left),
    }
}

fn prop_text(props: &Properties, name: &str) -> Option<String> {
    props.get(name).map(Value::to_text)
}

fn formats_of(
    props: &Properties,
    default_key: Format,
    default_value: Option<Format>,
) -> Result<(Format, Format)> {
    let both = prop_text(props, "FORMAT")
        .map(|f| Format::parse(&f))
        .transpose()?;
    let key = match prop_text(props, "KEY_FORMAT") {
        Some(f) => Format::parse(&f)?,
        None => both.unwrap_or(default_key),
    };
    let value = match prop_text(props, "VALUE_FORMAT") {
        Some(f) => Format::parse(&f)?,
        None => match both.or(default_value) {
            Some(f) => f,
            None => {
                return Err(SqlError::statement(
                    "Statement is missing the 'VALUE_FORMAT' property from the WITH clause. Either provide one or set a default via the 'ksql.persistence.default.format.value' config.",
                ));
            }
        },
    };
    Ok((key, value))
}

fn delimiter_of(props: &Properties) -> Result<char> {
    match prop_text(props, "VALUE_DELIMITER") {
        None => Ok(','),
        Some(d) => match d.to_ascii_uppercase().as_str() {
            "TAB" => Ok('\t'),
            "SPACE" => Ok(' '),
            _ if d.chars().count() == 1 => Ok(d.chars().next().unwrap_or(',')),
            _ => Err(SqlError::statement(format!(
                "Invalid delimiter value: '{d}'. Delimiter must be a single character or TAB or SPACE"
            ))),
        },
    }
}

fn check_properties(props: &Properties, allowed: &[&str]) -> Result<()> {
    for name in props.keys() {
        if !allowed.contains(&name.as_str()) {
            return Err(SqlError::statement(format!(
                "Invalid config variable(s) in the WITH clause: {name}. Known: {}",
                allowed.join(", ")
            )));
        }
    }
    Ok(())
}

/// What `CREATE STREAM|TABLE … AS SELECT` takes in its WITH clause.
const SINK_PROPERTIES: &[&str] = &[
    "KAFKA_TOPIC",
    "VALUE_FORMAT",
    "KEY_FORMAT",
    "FORMAT",
    "PARTITIONS",
    "REPLICAS",
    "TIMESTAMP",
    "TIMESTAMP_FORMAT",
    "VALUE_DELIMITER",
    "WRAP_SINGLE_VALUE",
    "RETENTION_MS",
];

/// What `CREATE STREAM|TABLE (…)` takes in its WITH clause.
const SOURCE_PROPERTIES: &[&str] = &[
    "KAFKA_TOPIC",
    "VALUE_FORMAT",
    "KEY_FORMAT",
    "FORMAT",
    "PARTITIONS",
    "REPLICAS",
    "TIMESTAMP",
    "TIMESTAMP_FORMAT",
    "VALUE_DELIMITER",
    "KEY_DELIMITER",
    "WRAP_SINGLE_VALUE",
    "KEY_SCHEMA_ID",
    "VALUE_SCHEMA_ID",
    "WINDOW_TYPE",
    "WINDOW_SIZE",
    "RETENTION_MS",
    "VALUE_AVRO_SCHEMA_FULL_NAME",
    "KEY_SCHEMA_FULL_NAME",
    "VALUE_SCHEMA_FULL_NAME",
];

type Registry = Arc<brook_registry::client::RegistryClient>;

fn registry_client(registry: Option<&Registry>, format: Format) -> Result<&Registry> {
    registry.ok_or_else(|| {
        SqlError::statement(format!(
            "The {} format needs the schema registry: set ksql.schema.registry.url (brook sql-server --schema-registry-url; brook serve sets it to its registry)",
            format.name()
        ))
    })
}

fn schema_id(props: &Properties, name: &str) -> Result<Option<i32>> {
    props
        .get(name)
        .map(|v| {
            v.as_i64()
                .and_then(|i| i32::try_from(i).ok())
                .ok_or_else(|| SqlError::statement(format!("{name} must be an integer")))
        })
        .transpose()
}

/// The registry side of a key or value format (None for the other formats).
fn codec(
    registry: Option<&Registry>,
    format: Format,
    subject: &str,
    columns: &[(String, SqlType)],
    id: Option<i32>,
) -> Result<Option<Arc<crate::format::registry::RegistryCodec>>> {
    if !format.uses_registry() {
        return Ok(None);
    }
    let client = registry_client(registry, format)?;
    Ok(Some(Arc::new(crate::format::registry::RegistryCodec::new(
        client.clone(),
        format,
        subject,
        columns,
        id,
    )?)))
}

/// The source a `CREATE STREAM|TABLE (…) WITH (…)` declares; with a registry format and no
/// value columns, the columns of the subject's latest schema (rows then written with it).
fn source_of_create(
    statement: &Statement,
    text: &str,
    registry: Option<&Registry>,
) -> Result<Source> {
    let Statement::CreateSource {
        kind,
        name,
        columns,
        properties,
        source: read_only,
        ..
    } = statement
    else {
        return Err(SqlError::statement("not a CREATE STREAM|TABLE"));
    };
    check_properties(properties, SOURCE_PROPERTIES)?;
    let topic = prop_text(properties, "KAFKA_TOPIC").ok_or_else(|| {
        SqlError::statement("Missing required property \"KAFKA_TOPIC\" which has no default value.")
    })?;
    let (key_format, value_format) = formats_of(properties, Format::Kafka, None)?;
    if columns.iter().all(|c| c.key) && !value_format.uses_registry() {
        return Err(SqlError::statement(format!(
            "The statement does not define any columns. {} needs columns for the {} format.",
            name,
            value_format.name()
        )));
    }
    let mut key_columns = Vec::new();
    let mut value_columns = Vec::new();
    for c in columns {
        if c.header.is_some() {
            return Err(SqlError::statement(format!(
                "Column {}: HEADERS columns are not supported yet",
                c.name
            )));
        }
        if matches!(
            c.name.as_str(),
            "ROWTIME" | "ROWPARTITION" | "ROWOFFSET" | "WINDOWSTART" | "WINDOWEND"
        ) {
            return Err(SqlError::statement(format!(
                "'{}' is a reserved column name.",
                c.name
            )));
        }
        if key_columns
            .iter()
            .chain(&value_columns)
            .any(|(n, _): &(String, SqlType)| *n == c.name)
        {
            return Err(SqlError::statement(format!(
                "Duplicate column names:\n\t{}",
                c.name
            )));
        }
        if c.key {
            key_columns.push((c.name.clone(), c.ty.clone()));
        } else {
            value_columns.push((c.name.clone(), c.ty.clone()));
        }
    }
    if *kind == SourceKind::Table && key_columns.is_empty() {
        return Err(SqlError::statement(format!(
            "Tables require a PRIMARY KEY. Please define the PRIMARY KEY.\nUse a partial schema to define the primary key and still load the value columns from the Schema Registry, for example:\n\tCREATE TABLE {name} (ID INT PRIMARY KEY) WITH (...);"
        )));
    }
    let delimiter = delimiter_of(properties)?;
    let wrap = match properties.get("WRAP_SINGLE_VALUE") {
        None => true,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| SqlError::statement("WRAP_SINGLE_VALUE must be TRUE or FALSE"))?,
    };
    let mut value_schema_id = schema_id(properties, "VALUE_SCHEMA_ID")?;
    if value_columns.is_empty() && value_format.uses_registry() {
        let client = registry_client(registry, value_format)?;
        let subject = format!("{topic}-value");
        value_columns = crate::format::registry::infer_columns(client, &subject, value_format)?;
        value_columns.retain(|(n, _)| !key_columns.iter().any(|(k, _)| k == n));
        if value_schema_id.is_none() {
            value_schema_id = client.latest(&subject).ok().map(|(id, _)| id);
        }
    }
    // The formats check the columns they must carry.
    RowFormat::new(key_format, key_columns.clone(), false, delimiter, "key")?;
    RowFormat::new(
        value_format,
        value_columns.clone(),
        wrap,
        delimiter,
        "value",
    )?;
    let key_registry = codec(
        registry,
        key_format,
        &format!("{topic}-key"),
        &key_columns,
        schema_id(properties, "KEY_SCHEMA_ID")?,
    )?;
    let value_registry = codec(
        registry,
        value_format,
        &format!("{topic}-value"),
        &value_columns,
        value_schema_id,
    )?;
    let window = match prop_text(properties, "WINDOW_TYPE") {
        None => None,
        Some(w) if w.eq_ignore_ascii_case("SESSION") => Some(WindowType::Session),
        Some(_) => Some(WindowType::Time(match properties.get("WINDOW_SIZE") {
            Some(Value::String(s)) => parse_window_size(s)?,
            _ => {
                return Err(SqlError::statement(
                    "WINDOW_SIZE is required for TUMBLING and HOPPING windows, e.g. WINDOW_SIZE='1 HOUR'",
                ));
            }
        })),
    };
    let source = Source {
        name: name.clone(),
        kind: *kind,
        topic,
        key_columns,
        value_columns,
        key_format,
        value_format,
        wrap_single_value: wrap,
        value_delimiter: delimiter,
        timestamp_column: prop_text(properties, "TIMESTAMP").map(|t| t.to_uppercase()),
        timestamp_format: prop_text(properties, "TIMESTAMP_FORMAT"),
        window,
        statement: text.to_string(),
        written_by: None,
        read_only: *read_only,
        key_registry,
        value_registry,
    };
    if let Some(ts) = &source.timestamp_column {
        if !source
            .key_columns
            .iter()
            .chain(&source.value_columns)
            .any(|(n, _)| n == ts)
        {
            return Err(SqlError::statement(format!(
                "The TIMESTAMP column set in the WITH clause does not exist in the schema: '{ts}'"
            )));
        }
    }
    Ok(source)
}

fn parse_window_size(text: &str) -> Result<i64> {
    let mut parts = text.split_whitespace();
    let (Some(n), Some(unit)) = (
        parts.next().and_then(|n| n.parse::<i64>().ok()),
        parts.next(),
    ) else {
        return Err(SqlError::statement(format!(
            "WINDOW_SIZE '{text}' is not like '1 HOUR'"
        )));
    };
    let factor = crate::time::unit_millis(unit)
        .ok_or_else(|| SqlError::statement(format!("WINDOW_SIZE '{text}' has an unknown unit")))?;
    Ok(n * factor)
}

/// The source a CSAS/CTAS writes.
#[allow(clippy::too_many_arguments)]
fn sink_source(
    catalog: &Catalog,
    registry: Option<&Registry>,
    name: &str,
    kind: SourceKind,
    properties: &Properties,
    query: &crate::ast::Query,
    schema: &OutputSchema,
    text: &str,
) -> Result<Source> {
    check_properties(properties, SINK_PROPERTIES)?;
    let from = catalog.get(first_source(&query.from));
    let (key_format, value_format) = formats_of(
        properties,
        from.map_or(Format::Kafka, |s| s.key_format),
        from.map(|s| s.value_format),
    )?;
    let key_format = if schema.key_positions.len() > 1 && key_format == Format::Kafka {
        // ksqlDB switches multi-column keys to JSON when the key format cannot carry them.
        return Err(SqlError::statement(format!(
            "The 'KAFKA' format only supports a single field. Got: {} key columns. Set KEY_FORMAT='JSON'.",
            schema.key_positions.len()
        )));
    } else {
        key_format
    };
    let delimiter = delimiter_of(properties)?;
    let wrap = properties
        .get("WRAP_SINGLE_VALUE")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let key_columns = schema.key_columns();
    let value_columns = schema.value_columns();
    RowFormat::new(key_format, key_columns.clone(), false, delimiter, "key")?;
    RowFormat::new(
        value_format,
        value_columns.clone(),
        wrap,
        delimiter,
        "value",
    )?;
    let topic = prop_text(properties, "KAFKA_TOPIC").unwrap_or_else(|| name.to_string());
    let key_registry = codec(
        registry,
        key_format,
        &format!("{topic}-key"),
        &key_columns,
        None,
    )?;
    let value_registry = codec(
        registry,
        value_format,
        &format!("{topic}-value"),
        &value_columns,
        None,
    )?;
    Ok(Source {
        name: name.to_string(),
        kind,
        topic,
        key_columns,
        value_columns,
        key_format,
        value_format,
        wrap_single_value: wrap,
        value_delimiter: delimiter,
        timestamp_column: prop_text(properties, "TIMESTAMP").map(|t| t.to_uppercase()),
        timestamp_format: prop_text(properties, "TIMESTAMP_FORMAT"),
        window: schema.window,
        statement: text.to_string(),
        written_by: None,
        read_only: false,
        key_registry,
        value_registry,
    })
}

/// Replaces `${name}` with the variable's value.
fn substitute(text: &str, variables: &BTreeMap<String, String>) -> Result<String> {
    if !text.contains("${") {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[at..]);
            return Ok(out);
        };
        let name = after[..end].trim().to_lowercase();
        match variables.get(&name) {
            Some(v) => out.push_str(v),
            None => {
                return Err(SqlError::statement(format!(
                    "Can't find variable '{name}'. DEFINE it first."
                )));
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn describe_function(name: &str, text: &str) -> Result<Json> {
    let name = name.to_uppercase();
    let (name, description, signature, kind) =
        match (functions::scalar(&name), functions::aggregate(&name)) {
            (Some(f), _) => (f.name, f.description, f.signature, "SCALAR"),
            (None, Some(a)) => (a.name, a.description, a.signature, "AGGREGATE"),
            (None, None) => {
                return Err(SqlError::statement(format!(
                    "Can't find any functions with the name '{name}'"
                )));
            }
        };
    Ok(json!({
        "@type": "describe_function",
        "statementText": text,
        "name": name,
        "description": description,
        "author": "Brook",
        "version": KSQL_VERSION,
        "path": "internal",
        "functions": [{"arguments": [], "returnType": "", "description": signature, "argumentTypes": []}],
        "type": kind,
        "warnings": []
    }))
}
