//! Push queries (`SELECT … EMIT CHANGES`: a transient Brook Streams application whose rows go
//! to the client), pull queries (`SELECT …` on a table a persistent query materializes: the
//! rows of its store now) and `PRINT`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use brook_client::Quiet;
use brook_streams::runtime::{KafkaStreams, StreamsState};
use rdkafka::Message;
use rdkafka::consumer::{BaseConsumer, Consumer};

use super::{Engine, Session};
use crate::ast::{Query, Relation};
use crate::catalog::WindowType;
use crate::error::{Result, SqlError};
use crate::expr::compile;
use crate::format::internal::InternalSerde;
use crate::planner::{self, OutputSchema, Sink};
use crate::types::SqlType;
use crate::value::{Row, Value};

/// A running push query: its rows arrive on `rows` until it is closed (dropping it closes
/// it too).
pub struct PushQuery {
    /// Its id.
    pub id: String,
    /// Its columns.
    pub schema: OutputSchema,
    /// Its rows.
    pub rows: tokio::sync::mpsc::Receiver<Row>,
    /// `LIMIT n`.
    pub limit: Option<u64>,
    streams: Option<KafkaStreams>,
    listed: PushQueries,
}

/// The push queries running on this server (id → statement text), as `SHOW QUERIES` lists
/// them; a query leaves the list when it is closed or dropped.
#[derive(Clone, Default)]
pub(crate) struct PushQueries(Arc<std::sync::Mutex<std::collections::BTreeMap<String, String>>>);

impl PushQueries {
    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<String, String>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn list(&self) -> Vec<(String, String)> {
        self.lock()
            .iter()
            .map(|(id, s)| (id.clone(), s.clone()))
            .collect()
    }
}

impl PushQuery {
    /// Stops the query (blocking until its application has closed).
    pub fn close(&mut self) {
        self.listed.lock().remove(&self.id);
        if let Some(mut streams) = self.streams.take() {
            if let Err(e) = streams.close() {
                tracing::debug!(%e, query = %self.id, "closing a push query");
            }
        }
    }
}

impl Drop for PushQuery {
    fn drop(&mut self) {
        self.listed.lock().remove(&self.id);
        if let Some(mut streams) = self.streams.take() {
            // Closing waits for the stream threads; not on the dropping thread.
            std::thread::spawn(move || {
                let _ = streams.close();
            });
        }
    }
}

/// A pull query's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct PullResult {
    /// Its id.
    pub id: String,
    /// Its columns.
    pub columns: Vec<(String, SqlType)>,
    /// Its rows.
    pub rows: Vec<Row>,
}

impl Engine {
    /// Starts a push query; returns once its application has its partitions, so that rows
    /// written after this returns are seen even when it starts at the end of its topics.
    /// `statement` is the query's text, as `SHOW QUERIES` shows it.
    pub fn push_query(
        &self,
        query: &Query,
        statement: &str,
        session: &Session,
    ) -> Result<PushQuery> {
        let (tx, rx) = tokio::sync::mpsc::channel::<Row>(1024);
        let planned = {
            let state = self.lock();
            planner::plan(&state.catalog, query, "Aggregate-", |_| {
                let tx = tx.clone();
                Ok(Sink::Rows(Arc::new(move |row| {
                    let _ = tx.blocking_send(row);
                })))
            })?
        };
        drop(tx);
        let id = self.transient_id();
        let app = format!("_confluent-ksql-{}{id}", self.config.service_id);
        self.set_start_offsets(&app, &planned.sources, session)?;
        let config = self
            .streams_config(&app, session)
            .with_cache_max_bytes(0)
            .with_commit_interval(Duration::from_millis(500));
        let mut streams = KafkaStreams::new(planned.topology, config);
        streams
            .start()
            .map_err(|e| SqlError::server(format!("Could not start the push query: {e}")))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while streams.state() != StreamsState::Running {
            if matches!(
                streams.state(),
                StreamsState::Error | StreamsState::NotRunning
            ) || Instant::now() > deadline
            {
                let _ = streams.close();
                return Err(SqlError::server(
                    "The push query did not start (its application did not get its partitions)",
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.push_queries
            .lock()
            .insert(id.clone(), statement.to_string());
        Ok(PushQuery {
            id,
            schema: planned.schema,
            rows: rx,
            limit: query.limit,
            streams: Some(streams),
            listed: self.push_queries.clone(),
        })
    }

    /// Runs a pull query on a table that a persistent query materializes.
    pub fn pull_query(&self, query: &Query) -> Result<PullResult> {
        let Relation::Source { name, alias } = &query.from else {
            return Err(SqlError::statement(
                "Pull queries don't support JOIN clauses.",
            ));
        };
        if !query.group_by.is_empty()
            || query.window.is_some()
            || !query.partition_by.is_empty()
            || query.having.is_some()
        {
            return Err(SqlError::statement(
                "Pull queries don't support GROUP BY, WINDOW, PARTITION BY or HAVING clauses.",
            ));
        }
        let state = self.lock();
        let source = state
            .catalog
            .get(name)
            .ok_or_else(|| SqlError::statement(format!("{name} does not exist.")))?
            .clone();
        if source.kind != crate::ast::SourceKind::Table {
            return Err(SqlError::statement(format!(
                "Pull queries are not supported on streams. Add EMIT CHANGES to make it a push query: SELECT … FROM {name} EMIT CHANGES;"
            )));
        }
        let query_id = source.written_by.clone().ok_or_else(|| {
            SqlError::statement(format!(
                "The {name} table isn't queryable. To derive a queryable table, you can do 'CREATE TABLE QUERYABLE_{name} AS SELECT * FROM {name}'."
            ))
        })?;
        let pq = state.queries.get(&query_id).ok_or_else(|| {
            SqlError::statement(format!(
                "The query {query_id} materializing {name} is not running"
            ))
        })?;
        let store = pq.store.clone().ok_or_else(|| {
            SqlError::statement(format!(
                "The {name} table isn't queryable: its query keeps no store (a windowed table that does not aggregate)"
            ))
        })?;
        // The store's groups, as rows of the table: keys, values, ROWTIME, window bounds.
        let schema = pq.schema.clone();
        let value_positions: Vec<usize> = schema.value_positions().collect();
        let to_table_row = |projected: Row, window: Option<(i64, i64)>| -> Row {
            let mut row: Row = schema
                .key_positions
                .iter()
                .map(|i| projected[*i].clone())
                .collect();
            if let Some((s, e)) = window {
                row.push(Value::Bigint(s));
                row.push(Value::Bigint(e));
            }
            row.extend(value_positions.iter().map(|i| projected[*i].clone()));
            row.push(Value::Null);
            row
        };
        let mut table_rows = Vec::new();
        let fail = |e: brook_streams::runtime::RuntimeError| {
            SqlError::server(format!("cannot read the store of {name}: {e}"))
        };
        match store.window {
            None => {
                let kv = pq
                    .streams
                    .key_value_store(&store.name, InternalSerde, InternalSerde)
                    .map_err(fail)?;
                for (key, state) in kv.all().map_err(|e| SqlError::server(e.to_string()))? {
                    if let Some(p) = store.project.project(&key, &state, None) {
                        table_rows.push(to_table_row(p, None));
                    }
                }
            }
            Some(WindowType::Time(size)) => {
                let ws = pq
                    .streams
                    .window_store(&store.name, InternalSerde, InternalSerde, size)
                    .map_err(fail)?;
                for (key, state) in ws.all().map_err(|e| SqlError::server(e.to_string()))? {
                    let window = (key.window.start_ms, key.window.end_ms);
                    if let Some(p) = store.project.project(&key.key, &state, Some(window)) {
                        table_rows.push(to_table_row(p, Some(window)));
                    }
                }
            }
            Some(WindowType::Session) => {
                return Err(SqlError::statement(
                    "Pull queries on session-windowed tables are not supported yet",
                ));
            }
        }
        drop(state);
        let scope = source.scope(alias.as_deref().unwrap_or(name));
        let filter = query
            .where_clause
            .as_ref()
            .map(|w| compile(w, &scope).map(|(c, _)| c))
            .transpose()?;
        let (select, columns) =
            planner::select_list(&scope, &query.select, source.window.is_some())?;
        let mut rows: Vec<Row> = table_rows
            .iter()
            .filter(|r| filter.as_ref().is_none_or(|f| f.is_true(r)))
            .map(|r| select.iter().map(|(c, _)| c.eval(r)).collect())
            .collect();
        rows.sort();
        if let Some(limit) = query.limit {
            rows.truncate(limit as usize);
        }
        Ok(PullResult {
            id: format!("query_{}", crate::time::now_millis()),
            columns,
            rows,
        })
    }

    /// `PRINT topic`: the topic's records as text lines, sent to `out` until it closes, the
    /// limit is reached or `stop` is set.
    pub fn print(
        &self,
        topic: &str,
        from_beginning: bool,
        interval: u64,
        limit: Option<u64>,
        out: tokio::sync::mpsc::Sender<String>,
    ) -> Result<()> {
        if self.cluster.topic(topic)?.is_none() {
            return Err(SqlError::statement(format!(
                "Could not find topic '{topic}', or the KSQL user does not have permissions to list the topic. Topic names are case-sensitive."
            )));
        }
        let consumer: BaseConsumer<Quiet> = self
            .config
            .cluster
            .create(
                &[
                    (
                        "group.id",
                        &format!(
                            "_confluent-ksql-{}print_{}",
                            self.config.service_id,
                            crate::time::now_millis()
                        ),
                    ),
                    ("enable.auto.commit", "false"),
                    (
                        "auto.offset.reset",
                        if from_beginning { "earliest" } else { "latest" },
                    ),
                ],
                Quiet,
            )
            .map_err(|e| SqlError::server(e.to_string()))?;
        consumer
            .subscribe(&[topic])
            .map_err(|e| SqlError::server(e.to_string()))?;
        let mut seen = 0u64;
        let mut printed = 0u64;
        let mut header_sent = false;
        loop {
            if out.is_closed() || limit.is_some_and(|l| printed >= l) {
                return Ok(());
            }
            let Some(message) = consumer.poll(Duration::from_millis(200)) else {
                continue;
            };
            let Ok(message) = message else {
                continue;
            };
            seen += 1;
            if (seen - 1) % interval.max(1) != 0 {
                continue;
            }
            if !header_sent {
                header_sent = true;
                let key_format = if message
                    .key()
                    .is_some_and(|k| std::str::from_utf8(k).is_ok())
                {
                    "KAFKA_STRING"
                } else {
                    "KAFKA_BIGINT or KAFKA_DOUBLE"
                };
                let value_format = if message
                    .payload()
                    .is_some_and(|v| serde_json::from_slice::<serde_json::Value>(v).is_ok())
                {
                    "JSON or KAFKA_STRING"
                } else {
                    "KAFKA_STRING"
                };
                if out
                    .blocking_send(format!(
                        "Key format: {key_format}\nValue format: {value_format}"
                    ))
                    .is_err()
                {
                    return Ok(());
                }
            }
            let text = |b: Option<&[u8]>| match b {
                None => "<null>".to_string(),
                Some(b) => match std::str::from_utf8(b) {
                    Ok(s) => s.to_string(),
                    Err(_) => b.iter().map(|x| format!("{x:02x}")).collect(),
                },
            };
            let ts = message.timestamp().to_millis().unwrap_or(0);
            let line = format!(
                "rowtime: {} Z, key: {}, value: {}, partition: {}",
                crate::time::format_millis(ts, "yyyy/MM/dd HH:mm:ss.SSS", None).unwrap_or_default(),
                text(message.key()),
                text(message.payload()),
                message.partition()
            );
            if out.blocking_send(line).is_err() {
                return Ok(());
            }
            printed += 1;
        }
    }
}
