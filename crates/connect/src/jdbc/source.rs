//! The PostgreSQL source (`io.confluent.connect.jdbc.JdbcSourceConnector`'s settings): the
//! tables of `table.whitelist` (every table of the current schema when empty, less
//! `table.blacklist`) are polled every `poll.interval.ms` into `<topic.prefix><table>`, one
//! record per row, its value a struct of the row's columns.
//!
//! `mode` decides what a poll reads: `bulk` the whole table; `incrementing` the rows whose
//! `incrementing.column.name` is above the last one read; `timestamp` the rows whose
//! `timestamp.column.name` is after the last one read and before now less
//! `timestamp.delay.interval.ms`; `timestamp+incrementing` both, so rows with the same
//! timestamp are not lost. The position is the source offset under `{"table": name}`
//! (`{"incrementing": n}`, `{"timestamp": ms, "timestamp_nanos": ns}`), so a restarted task
//! goes on where its last committed batch ended. `tasks.max` splits the tables.

use std::time::{Duration, Instant};

use postgres::types::Type as PgType;
use serde_json::{Value as Json, json};

use super::{CONNECTION_KEYS, connect, quote, quote_table};
use crate::data::{Config, Field, Schema, Type, Value};
use crate::plugin::{
    ConfigKey, ConnectError, OffsetReader, Plugin, PluginKind, SourceRecord, SourceTask,
};
use crate::transforms::{DATE, TIME, TIMESTAMP};

/// The JDBC source plugin.
pub struct JdbcSource;

const KEYS: [ConfigKey; 10] = [
    ConfigKey {
        name: "mode",
        kind: "STRING",
        default: None,
        importance: "HIGH",
        documentation: "bulk, incrementing, timestamp or timestamp+incrementing.",
        recommended: &[
            "bulk",
            "incrementing",
            "timestamp",
            "timestamp+incrementing",
        ],
    },
    ConfigKey {
        name: "topic.prefix",
        kind: "STRING",
        default: None,
        importance: "HIGH",
        documentation: "Prefix prepended to table names to make the topic names.",
        recommended: &[],
    },
    ConfigKey {
        name: "table.whitelist",
        kind: "LIST",
        default: Some(""),
        importance: "MEDIUM",
        documentation: "The tables to read (empty: every table of the current schema).",
        recommended: &[],
    },
    ConfigKey {
        name: "table.blacklist",
        kind: "LIST",
        default: Some(""),
        importance: "MEDIUM",
        documentation: "Tables not to read.",
        recommended: &[],
    },
    ConfigKey {
        name: "incrementing.column.name",
        kind: "STRING",
        default: Some(""),
        importance: "MEDIUM",
        documentation: "A strictly increasing integer column (incrementing modes).",
        recommended: &[],
    },
    ConfigKey {
        name: "timestamp.column.name",
        kind: "LIST",
        default: Some(""),
        importance: "MEDIUM",
        documentation: "The timestamp column (timestamp modes); the first non-null of several.",
        recommended: &[],
    },
    ConfigKey {
        name: "poll.interval.ms",
        kind: "INT",
        default: Some("5000"),
        importance: "HIGH",
        documentation: "How often each table is polled for new rows.",
        recommended: &[],
    },
    ConfigKey {
        name: "batch.max.rows",
        kind: "INT",
        default: Some("100"),
        importance: "LOW",
        documentation: "The most rows one poll returns.",
        recommended: &[],
    },
    ConfigKey {
        name: "timestamp.delay.interval.ms",
        kind: "LONG",
        default: Some("0"),
        importance: "HIGH",
        documentation: "How long after its timestamp a row is read (for transactions still open).",
        recommended: &[],
    },
    ConfigKey {
        name: "tables",
        kind: "LIST",
        default: Some(""),
        importance: "LOW",
        documentation: "The tables of one task (set by the connector).",
        recommended: &[],
    },
];

fn setting(config: &Config, key: &str) -> String {
    crate::plugin::setting(config, &KEYS, key)
}

fn list(config: &Config, key: &str) -> Vec<String> {
    crate::plugin::list_setting(config, &KEYS, key)
}

impl Plugin for JdbcSource {
    fn class(&self) -> &'static str {
        "io.confluent.connect.jdbc.JdbcSourceConnector"
    }

    fn kind(&self) -> PluginKind {
        PluginKind::Source
    }

    fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    fn config_def(&self) -> Vec<ConfigKey> {
        CONNECTION_KEYS
            .iter()
            .chain(KEYS.iter().filter(|k| k.name != "tables"))
            .cloned()
            .collect()
    }

    fn validate(&self, config: &Config) -> Vec<(String, String)> {
        let mut errors = Vec::new();
        if let Err(e) = super::connection(config) {
            errors.push(("connection.url".to_string(), e));
        }
        let mode = setting(config, "mode");
        if mode.contains("incrementing") && setting(config, "incrementing.column.name").is_empty() {
            errors.push((
                "incrementing.column.name".to_string(),
                format!("mode={mode} needs incrementing.column.name"),
            ));
        }
        if mode.contains("timestamp") && list(config, "timestamp.column.name").is_empty() {
            errors.push((
                "timestamp.column.name".to_string(),
                format!("mode={mode} needs timestamp.column.name"),
            ));
        }
        errors
    }

    fn task_configs(&self, config: &Config, max_tasks: usize) -> Result<Vec<Config>, ConnectError> {
        let mut client = connect(config)?;
        let mut tables = list(config, "table.whitelist");
        if tables.is_empty() {
            tables = client
                .query(
                    "SELECT table_name::text FROM information_schema.tables \
                     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
                     ORDER BY table_name",
                    &[],
                )
                .map_err(|e| ConnectError::new(format!("cannot list the tables: {e}")))?
                .iter()
                .map(|r| r.get(0))
                .collect();
        }
        let blacklist = list(config, "table.blacklist");
        tables.retain(|t| !blacklist.contains(t));
        if tables.is_empty() {
            return Err(ConnectError::new(
                "No tables to read: table.whitelist is empty and the current schema has none",
            ));
        }
        let tasks = max_tasks.clamp(1, tables.len());
        Ok((0..tasks)
            .map(|i| {
                let mine: Vec<&str> = tables
                    .iter()
                    .skip(i)
                    .step_by(tasks)
                    .map(String::as_str)
                    .collect();
                let mut c = config.clone();
                c.insert("tables".to_string(), mine.join(","));
                c
            })
            .collect())
    }

    fn source_task(&self, config: &Config) -> Result<Box<dyn SourceTask>, ConnectError> {
        let number = |k: &str| setting(config, k).parse::<u64>().unwrap_or(0);
        Ok(Box::new(JdbcSourceTask {
            config: config.clone(),
            mode: setting(config, "mode"),
            prefix: setting(config, "topic.prefix"),
            incrementing: setting(config, "incrementing.column.name"),
            timestamps: list(config, "timestamp.column.name"),
            interval: Duration::from_millis(number("poll.interval.ms")),
            max_rows: number("batch.max.rows").max(1) as i64,
            delay: number("timestamp.delay.interval.ms") as i64,
            tables: list(config, "tables")
                .into_iter()
                .map(|name| TableState {
                    name,
                    columns: None,
                    incrementing: None,
                    timestamp: None,
                    next_poll: Instant::now(),
                })
                .collect(),
            client: None,
            next: 0,
        }))
    }
}

/// A table's columns: name, PostgreSQL type and Connect schema.
type Columns = Vec<(String, PgType, Schema)>;

struct TableState {
    name: String,
    columns: Option<Columns>,
    /// The last incrementing value read.
    incrementing: Option<i64>,
    /// The last timestamp read (microseconds since the epoch, PostgreSQL's precision).
    timestamp: Option<i64>,
    next_poll: Instant,
}

struct JdbcSourceTask {
    config: Config,
    mode: String,
    prefix: String,
    incrementing: String,
    timestamps: Vec<String>,
    interval: Duration,
    max_rows: i64,
    delay: i64,
    tables: Vec<TableState>,
    client: Option<postgres::Client>,
    /// The table to poll next.
    next: usize,
}

/// The Connect schema of a PostgreSQL column type (None: read as text).
fn column_schema(ty: &PgType, nullable: bool) -> (Schema, bool) {
    let (schema, native) = match *ty {
        PgType::INT2 => (Schema::of(Type::Int16), true),
        PgType::INT4 => (Schema::of(Type::Int32), true),
        PgType::INT8 => (Schema::of(Type::Int64), true),
        PgType::FLOAT4 => (Schema::of(Type::Float32), true),
        PgType::FLOAT8 => (Schema::of(Type::Float64), true),
        PgType::BOOL => (Schema::of(Type::Boolean), true),
        PgType::BYTEA => (Schema::of(Type::Bytes), true),
        PgType::TIMESTAMP | PgType::TIMESTAMPTZ => (Schema::of(Type::Int64).named(TIMESTAMP), true),
        PgType::DATE => (Schema::of(Type::Int32).named(DATE), true),
        PgType::TIME => (Schema::of(Type::Int32).named(TIME), true),
        PgType::TEXT | PgType::VARCHAR | PgType::BPCHAR | PgType::NAME => {
            (Schema::of(Type::String), true)
        }
        // NUMERIC, JSON, UUID, …: as their text.
        _ => (Schema::of(Type::String), false),
    };
    (if nullable { schema.optional() } else { schema }, native)
}

/// A column of a row as a Connect value.
fn cell(row: &postgres::Row, i: usize, ty: &PgType) -> Result<Value, postgres::Error> {
    Ok(match *ty {
        PgType::INT2 => row
            .try_get::<_, Option<i16>>(i)?
            .map_or(Value::Null, |v| Value::Int(v.into())),
        PgType::INT4 => row
            .try_get::<_, Option<i32>>(i)?
            .map_or(Value::Null, |v| Value::Int(v.into())),
        PgType::INT8 => row
            .try_get::<_, Option<i64>>(i)?
            .map_or(Value::Null, Value::Int),
        PgType::FLOAT4 => row
            .try_get::<_, Option<f32>>(i)?
            .map_or(Value::Null, |v| Value::Float(v.into())),
        PgType::FLOAT8 => row
            .try_get::<_, Option<f64>>(i)?
            .map_or(Value::Null, Value::Float),
        PgType::BOOL => row
            .try_get::<_, Option<bool>>(i)?
            .map_or(Value::Null, Value::Boolean),
        PgType::BYTEA => row
            .try_get::<_, Option<Vec<u8>>>(i)?
            .map_or(Value::Null, Value::Bytes),
        PgType::TIMESTAMP => row
            .try_get::<_, Option<chrono::NaiveDateTime>>(i)?
            .map_or(Value::Null, |t| Value::Int(t.and_utc().timestamp_millis())),
        PgType::TIMESTAMPTZ => row
            .try_get::<_, Option<chrono::DateTime<chrono::Utc>>>(i)?
            .map_or(Value::Null, |t| Value::Int(t.timestamp_millis())),
        PgType::DATE => row
            .try_get::<_, Option<chrono::NaiveDate>>(i)?
            .map_or(Value::Null, |d| {
                Value::Int(brook_time::days_of_date(d).into())
            }),
        PgType::TIME => row
            .try_get::<_, Option<chrono::NaiveTime>>(i)?
            .map_or(Value::Null, |t| {
                use chrono::Timelike as _;
                Value::Int(
                    i64::from(t.num_seconds_from_midnight()) * 1000
                        + i64::from(t.nanosecond() / 1_000_000),
                )
            }),
        _ => row
            .try_get::<_, Option<String>>(i)?
            .map_or(Value::Null, Value::String),
    })
}

impl JdbcSourceTask {
    fn client(&mut self) -> Result<&mut postgres::Client, ConnectError> {
        if self.client.as_ref().is_none_or(postgres::Client::is_closed) {
            self.client = Some(connect(&self.config)?);
        }
        Ok(self.client.as_mut().expect("connected"))
    }

    /// The table's columns, read once.
    fn columns(&mut self, t: usize) -> Result<Columns, ConnectError> {
        if let Some(c) = &self.tables[t].columns {
            return Ok(c.clone());
        }
        let name = self.tables[t].name.clone();
        let probe = format!("SELECT * FROM {} LIMIT 0", quote_table(&name));
        let client = self.client()?;
        let statement = client
            .prepare(&probe)
            .map_err(|e| ConnectError::new(format!("cannot read table {name}: {e}")))?;
        let (schema_name, bare) = match name.rsplit_once('.') {
            Some((s, t)) => (Some(s.to_string()), t.to_string()),
            None => (None, name.clone()),
        };
        let nullable: Vec<(String, bool)> = client
            .query(
                "SELECT column_name::text, is_nullable = 'YES' FROM information_schema.columns \
                 WHERE table_name = $1 AND table_schema = COALESCE($2, current_schema())",
                &[&bare, &schema_name],
            )
            .map_err(|e| ConnectError::new(format!("cannot read the columns of {name}: {e}")))?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let columns: Columns = statement
            .columns()
            .iter()
            .map(|c| {
                let null = nullable
                    .iter()
                    .find(|(n, _)| n == c.name())
                    .is_none_or(|(_, n)| *n);
                let (schema, _) = column_schema(c.type_(), null);
                (c.name().to_string(), c.type_().clone(), schema)
            })
            .collect();
        for needed in std::iter::once(&self.incrementing)
            .filter(|_| self.mode.contains("incrementing"))
            .chain(
                self.timestamps
                    .iter()
                    .filter(|_| self.mode.contains("timestamp")),
            )
        {
            if !columns.iter().any(|(n, _, _)| n == needed) {
                return Err(ConnectError::new(format!(
                    "table {name} has no column {needed}"
                )));
            }
        }
        self.tables[t].columns = Some(columns.clone());
        Ok(columns)
    }

    /// The query of one poll of a table, and its parameters' values.
    fn query(&self, t: &TableState, columns: &Columns) -> (String, Vec<i64>) {
        let select: Vec<String> = columns
            .iter()
            .map(|(n, ty, _)| {
                if column_schema(ty, true).1 {
                    quote(n)
                } else {
                    format!("{}::text AS {}", quote(n), quote(n))
                }
            })
            .collect();
        let table = quote_table(&t.name);
        let inc = quote(&self.incrementing);
        let ts = match self.timestamps.as_slice() {
            [one] => quote(one),
            many => format!(
                "COALESCE({})",
                many.iter().map(|c| quote(c)).collect::<Vec<_>>().join(",")
            ),
        };
        // Timestamps are compared as microseconds since the epoch, in UTC.
        let ts_micros = format!("(EXTRACT(EPOCH FROM {ts} AT TIME ZONE 'UTC') * 1000000)::bigint");
        let until = format!(
            "(EXTRACT(EPOCH FROM (now() AT TIME ZONE 'UTC') - make_interval(secs => {} / 1000.0)) * 1000000)::bigint",
            self.delay
        );
        let head = format!(
            "SELECT {}, {ts_micros} AS \"__brook_ts\" FROM {table}",
            select.join(", ")
        );
        let head_plain = format!("SELECT {} FROM {table}", select.join(", "));
        let limit = self.max_rows;
        match self.mode.as_str() {
            "incrementing" => (
                format!("{head_plain} WHERE {inc} > $1::bigint ORDER BY {inc} ASC LIMIT {limit}"),
                vec![t.incrementing.unwrap_or(i64::MIN)],
            ),
            "timestamp" => (
                format!(
                    "{head} WHERE {ts_micros} > $1::bigint AND {ts_micros} < {until} ORDER BY {ts} ASC LIMIT {limit}"
                ),
                vec![t.timestamp.unwrap_or(i64::MIN)],
            ),
            "timestamp+incrementing" => (
                format!(
                    "{head} WHERE {ts_micros} < {until} AND (({ts_micros} = $1::bigint AND {inc} > $2::bigint) OR {ts_micros} > $1::bigint) ORDER BY {ts} ASC, {inc} ASC LIMIT {limit}"
                ),
                vec![
                    t.timestamp.unwrap_or(i64::MIN),
                    t.incrementing.unwrap_or(i64::MIN),
                ],
            ),
            _ => (head_plain, Vec::new()),
        }
    }

    /// Polls table `t`.
    fn poll_table(&mut self, t: usize) -> Result<Vec<SourceRecord>, ConnectError> {
        let columns = self.columns(t)?;
        let (sql, params) = self.query(&self.tables[t], &columns);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|p| p as &(dyn postgres::types::ToSql + Sync))
            .collect();
        let name = self.tables[t].name.clone();
        let rows = self
            .client()?
            .query(&sql, &refs)
            .map_err(|e| ConnectError::new(format!("cannot poll table {name}: {e}")))?;
        let schema = Schema::of(Type::Struct(
            columns
                .iter()
                .map(|(n, _, s)| Field {
                    name: n.clone(),
                    schema: s.clone(),
                })
                .collect(),
        ))
        .named(&name);
        let topic = format!("{}{}", self.prefix, name);
        let inc_index = columns.iter().position(|(n, _, _)| *n == self.incrementing);
        let mut records = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut values = Vec::with_capacity(columns.len());
            for (i, (n, ty, _)) in columns.iter().enumerate() {
                let ty = if column_schema(ty, true).1 {
                    ty
                } else {
                    &PgType::TEXT
                };
                let v = cell(row, i, ty)
                    .map_err(|e| ConnectError::new(format!("table {name}, column {n}: {e}")))?;
                values.push((n.clone(), v));
            }
            let state = &mut self.tables[t];
            if let Some(i) = inc_index.filter(|_| self.mode.contains("incrementing")) {
                if let Value::Int(v) = values[i].1 {
                    state.incrementing = Some(v);
                }
            }
            if self.mode.contains("timestamp") {
                if let Ok(Some(ts)) = row.try_get::<_, Option<i64>>("__brook_ts") {
                    state.timestamp = Some(ts);
                }
            }
            let mut offset = serde_json::Map::new();
            if let Some(i) = state.incrementing {
                offset.insert("incrementing".to_string(), json!(i));
            }
            if let Some(ts) = state.timestamp {
                offset.insert("timestamp".to_string(), json!(ts.div_euclid(1000)));
                offset.insert(
                    "timestamp_nanos".to_string(),
                    json!(ts.rem_euclid(1_000_000) * 1000),
                );
            }
            records.push(SourceRecord {
                source_partition: json!({ "table": name }),
                source_offset: Json::Object(offset),
                topic: topic.clone(),
                partition: None,
                key_schema: None,
                key: Value::Null,
                value_schema: Some(schema.clone()),
                value: Value::Struct(values),
                timestamp: None,
                headers: Vec::new(),
            });
        }
        // A full batch: there may be more now. Otherwise (and always in bulk mode) the table
        // waits for its next interval.
        if rows.len() < self.max_rows as usize || self.mode == "bulk" {
            self.tables[t].next_poll = Instant::now() + self.interval;
        }
        Ok(records)
    }
}

impl SourceTask for JdbcSourceTask {
    fn start(&mut self, offsets: &dyn OffsetReader) -> Result<(), ConnectError> {
        for t in &mut self.tables {
            if let Some(o) = offsets.offset(&json!({ "table": t.name })) {
                t.incrementing = o["incrementing"].as_i64();
                t.timestamp = o["timestamp"]
                    .as_i64()
                    .map(|ms| ms * 1000 + o["timestamp_nanos"].as_i64().unwrap_or(0) / 1000 % 1000);
            }
        }
        self.client()?;
        Ok(())
    }

    fn poll(&mut self) -> Result<Option<Vec<SourceRecord>>, ConnectError> {
        if self.tables.is_empty() {
            std::thread::sleep(Duration::from_millis(500));
            return Ok(Some(Vec::new()));
        }
        let now = Instant::now();
        let due = (0..self.tables.len())
            .map(|i| (self.next + i) % self.tables.len())
            .find(|&i| self.tables[i].next_poll <= now);
        let Some(t) = due else {
            let soonest = self.tables.iter().map(|t| t.next_poll).min().unwrap_or(now);
            std::thread::sleep(
                soonest
                    .saturating_duration_since(now)
                    .min(Duration::from_millis(500)),
            );
            return Ok(Some(Vec::new()));
        };
        self.next = (t + 1) % self.tables.len();
        self.poll_table(t).map(Some)
    }
}
