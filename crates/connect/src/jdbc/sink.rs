//! The PostgreSQL sink (`io.confluent.connect.jdbc.JdbcSinkConnector`'s settings): each
//! record's value — a struct with its schema — becomes a row of `table.name.format`
//! (`${topic}` by default). `insert.mode` is `insert`, `upsert` (`INSERT … ON CONFLICT … DO
//! UPDATE`) or `update`; `pk.mode` is `none`, `kafka` (`__connect_topic`,
//! `__connect_partition`, `__connect_offset`), `record_key` or `record_value` with
//! `pk.fields`. `auto.create` creates a missing table from the schema, `auto.evolve` adds
//! missing columns; `delete.enabled` turns tombstones into deletes. A `put` is one
//! transaction, in statements of up to `batch.size` rows, so the worker commits consumer
//! offsets only after the rows are in the database.

use std::collections::HashMap;

use postgres::types::{ToSql, Type as PgType};

use super::{CONNECTION_KEYS, connect, quote, quote_table};
use crate::data::{Config, Schema, Type, Value};
use crate::plugin::{ConfigKey, ConnectError, Plugin, PluginKind, SinkRecord, SinkTask};
use crate::transforms::{DATE, TIME, TIMESTAMP};

/// The JDBC sink plugin.
pub struct JdbcSink;

const KEYS: [ConfigKey; 10] = [
    ConfigKey {
        name: "table.name.format",
        kind: "STRING",
        default: Some("${topic}"),
        importance: "MEDIUM",
        documentation: "The table to write to; ${topic} is the record's topic.",
        recommended: &[],
    },
    ConfigKey {
        name: "insert.mode",
        kind: "STRING",
        default: Some("insert"),
        importance: "HIGH",
        documentation: "insert, upsert (insert or update by primary key) or update.",
        recommended: &["insert", "upsert", "update"],
    },
    ConfigKey {
        name: "pk.mode",
        kind: "STRING",
        default: Some("none"),
        importance: "HIGH",
        documentation: "Where the primary key comes from: none, kafka, record_key or record_value.",
        recommended: &["none", "kafka", "record_key", "record_value"],
    },
    ConfigKey {
        name: "pk.fields",
        kind: "LIST",
        default: Some(""),
        importance: "MEDIUM",
        documentation: "The primary key's columns (their meaning depends on pk.mode).",
        recommended: &[],
    },
    ConfigKey {
        name: "fields.whitelist",
        kind: "LIST",
        default: Some(""),
        importance: "MEDIUM",
        documentation: "The value's fields to write (empty: all).",
        recommended: &[],
    },
    ConfigKey {
        name: "auto.create",
        kind: "BOOLEAN",
        default: Some("false"),
        importance: "MEDIUM",
        documentation: "Whether to create a missing table from the record's schema.",
        recommended: &[],
    },
    ConfigKey {
        name: "auto.evolve",
        kind: "BOOLEAN",
        default: Some("false"),
        importance: "MEDIUM",
        documentation: "Whether to add the columns a record has and its table lacks.",
        recommended: &[],
    },
    ConfigKey {
        name: "delete.enabled",
        kind: "BOOLEAN",
        default: Some("false"),
        importance: "MEDIUM",
        documentation: "Whether a tombstone deletes its row (needs pk.mode=record_key).",
        recommended: &[],
    },
    ConfigKey {
        name: "batch.size",
        kind: "INT",
        default: Some("3000"),
        importance: "MEDIUM",
        documentation: "The most rows one statement writes.",
        recommended: &[],
    },
    ConfigKey {
        name: "db.timezone",
        kind: "STRING",
        default: Some("UTC"),
        importance: "MEDIUM",
        documentation: "The time zone of TIMESTAMP columns (UTC only).",
        recommended: &["UTC"],
    },
];

fn setting(config: &Config, key: &str) -> String {
    crate::plugin::setting(config, &JdbcSink.config_def(), key)
}

fn list(config: &Config, key: &str) -> Vec<String> {
    crate::plugin::list_setting(config, &JdbcSink.config_def(), key)
}

impl Plugin for JdbcSink {
    fn class(&self) -> &'static str {
        "io.confluent.connect.jdbc.JdbcSinkConnector"
    }

    fn kind(&self) -> PluginKind {
        PluginKind::Sink
    }

    fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    fn config_def(&self) -> Vec<ConfigKey> {
        CONNECTION_KEYS.iter().chain(KEYS.iter()).cloned().collect()
    }

    fn validate(&self, config: &Config) -> Vec<(String, String)> {
        let mut errors = Vec::new();
        if let Err(e) = super::connection(config) {
            errors.push(("connection.url".to_string(), e));
        }
        let pk_mode = setting(config, "pk.mode");
        if setting(config, "insert.mode") != "insert" && pk_mode == "none" {
            errors.push((
                "pk.mode".to_string(),
                "insert.mode=upsert and update need a primary key: set pk.mode".to_string(),
            ));
        }
        if pk_mode == "record_value" && list(config, "pk.fields").is_empty() {
            errors.push((
                "pk.fields".to_string(),
                "pk.mode=record_value needs pk.fields".to_string(),
            ));
        }
        if setting(config, "delete.enabled") == "true" && pk_mode != "record_key" {
            errors.push((
                "delete.enabled".to_string(),
                "Primary key mode must be 'record_key' when delete support is enabled".to_string(),
            ));
        }
        errors
    }

    fn task_configs(&self, config: &Config, max_tasks: usize) -> Result<Vec<Config>, ConnectError> {
        Ok(vec![config.clone(); max_tasks.max(1)])
    }

    fn sink_task(&self, config: &Config) -> Result<Box<dyn SinkTask>, ConnectError> {
        Ok(Box::new(JdbcSinkTask {
            config: config.clone(),
            table_format: setting(config, "table.name.format"),
            mode: setting(config, "insert.mode"),
            pk_mode: setting(config, "pk.mode"),
            pk_fields: list(config, "pk.fields"),
            whitelist: list(config, "fields.whitelist"),
            auto_create: setting(config, "auto.create") == "true",
            auto_evolve: setting(config, "auto.evolve") == "true",
            deletes: setting(config, "delete.enabled") == "true",
            batch_size: setting(config, "batch.size").parse().unwrap_or(3000).max(1),
            client: None,
            tables: HashMap::new(),
            statements: HashMap::new(),
        }))
    }
}

struct JdbcSinkTask {
    config: Config,
    table_format: String,
    mode: String,
    pk_mode: String,
    pk_fields: Vec<String>,
    whitelist: Vec<String>,
    auto_create: bool,
    auto_evolve: bool,
    deletes: bool,
    batch_size: usize,
    client: Option<postgres::Client>,
    /// Known tables: their columns.
    tables: HashMap<String, Vec<String>>,
    statements: HashMap<String, postgres::Statement>,
}

/// One column of a row: its name, schema and value.
type Cell = (String, Schema, Value);

/// What one record writes.
struct Row {
    table: String,
    /// Primary key cells first, then the others.
    cells: Vec<Cell>,
    pk: usize,
    delete: bool,
}

fn sql_type(schema: &Schema) -> Result<&'static str, String> {
    Ok(match (&schema.kind, schema.name.as_deref()) {
        (Type::Int64, Some(TIMESTAMP)) => "TIMESTAMP",
        (Type::Int32, Some(DATE)) => "DATE",
        (Type::Int32, Some(TIME)) => "TIME",
        (Type::Int8 | Type::Int16, _) => "SMALLINT",
        (Type::Int32, _) => "INT",
        (Type::Int64, _) => "BIGINT",
        (Type::Float32, _) => "REAL",
        (Type::Float64, _) => "DOUBLE PRECISION",
        (Type::Boolean, _) => "BOOLEAN",
        (Type::String, _) => "TEXT",
        (Type::Bytes, _) => "BYTEA",
        _ => {
            return Err(format!(
                "a {} field has no column type: flatten it first (the Flatten transform)",
                schema.type_name()
            ));
        }
    })
}

/// A value as a parameter of the column type PostgreSQL expects.
fn param(v: &Value, ty: &PgType, column: &str) -> Result<Box<dyn ToSql + Sync>, String> {
    let bad = || format!("column {column}: {} does not fit {ty}", v.to_json());
    let millis = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|d| d.naive_utc())
            .ok_or_else(bad)
    };
    let text_millis = |s: &str| brook_time::parse_timestamp_text(s).ok_or_else(bad);
    macro_rules! typed {
        ($t:ty, $conv:expr) => {{
            let converted: Option<$t> = match v {
                Value::Null => None,
                other => Some($conv(other)?),
            };
            Box::new(converted) as Box<dyn ToSql + Sync>
        }};
    }
    let int = |v: &Value| -> Result<i64, String> {
        match v {
            Value::Int(i) => Ok(*i),
            Value::Boolean(b) => Ok(i64::from(*b)),
            Value::String(s) => s.trim().parse().map_err(|_| bad()),
            _ => Err(bad()),
        }
    };
    let float = |v: &Value| -> Result<f64, String> {
        match v {
            Value::Float(f) => Ok(*f),
            Value::Int(i) => Ok(*i as f64),
            Value::String(s) => s.trim().parse().map_err(|_| bad()),
            _ => Err(bad()),
        }
    };
    Ok(match *ty {
        PgType::INT2 => typed!(i16, |v| int(v)
            .and_then(|i| i16::try_from(i).map_err(|_| bad()))),
        PgType::INT4 => typed!(i32, |v| int(v)
            .and_then(|i| i32::try_from(i).map_err(|_| bad()))),
        PgType::INT8 => typed!(i64, int),
        PgType::FLOAT4 => typed!(f32, |v| float(v).map(|f| f as f32)),
        PgType::FLOAT8 => typed!(f64, float),
        PgType::BOOL => typed!(bool, |v: &Value| match v {
            Value::Boolean(b) => Ok(*b),
            Value::Int(i) => Ok(*i != 0),
            Value::String(s) => Ok(s.trim().eq_ignore_ascii_case("true")),
            _ => Err(bad()),
        }),
        PgType::TEXT | PgType::VARCHAR | PgType::BPCHAR | PgType::NAME => {
            typed!(String, |v: &Value| Ok::<_, String>(match v {
                Value::String(s) => s.clone(),
                other => match other.to_json() {
                    serde_json::Value::String(s) => s,
                    j => j.to_string(),
                },
            }))
        }
        PgType::BYTEA => typed!(Vec<u8>, |v: &Value| match v {
            Value::Bytes(b) => Ok(b.clone()),
            Value::String(s) => Ok(s.clone().into_bytes()),
            _ => Err(bad()),
        }),
        PgType::TIMESTAMP => typed!(chrono::NaiveDateTime, |v: &Value| match v {
            Value::Int(ms) => millis(*ms),
            Value::String(s) => millis(text_millis(s)?),
            _ => Err(bad()),
        }),
        PgType::TIMESTAMPTZ => typed!(chrono::DateTime<chrono::Utc>, |v: &Value| match v {
            Value::Int(ms) => millis(*ms).map(|d| d.and_utc()),
            Value::String(s) => millis(text_millis(s)?).map(|d| d.and_utc()),
            _ => Err(bad()),
        }),
        PgType::DATE => typed!(chrono::NaiveDate, |v: &Value| match v {
            Value::Int(days) =>
                brook_time::date_of_days(i32::try_from(*days).map_err(|_| bad())?).ok_or_else(bad),
            Value::String(s) => brook_time::parse_date_text(s)
                .and_then(brook_time::date_of_days)
                .ok_or_else(bad),
            _ => Err(bad()),
        }),
        PgType::TIME => typed!(chrono::NaiveTime, |v: &Value| match v {
            Value::Int(ms) => chrono::NaiveTime::from_num_seconds_from_midnight_opt(
                u32::try_from(ms / 1000).map_err(|_| bad())?,
                u32::try_from(ms % 1000 * 1_000_000).map_err(|_| bad())?,
            )
            .ok_or_else(bad),
            _ => Err(bad()),
        }),
        _ => {
            return Err(format!(
                "column {column}: the column type {ty} is not supported by Brook's JDBC sink"
            ));
        }
    })
}

impl JdbcSinkTask {
    fn client(&mut self) -> Result<&mut postgres::Client, ConnectError> {
        if self.client.as_ref().is_none_or(postgres::Client::is_closed) {
            self.client = Some(connect(&self.config)?);
            self.statements.clear();
        }
        Ok(self.client.as_mut().expect("connected"))
    }

    /// What a record writes.
    fn row(&self, r: &SinkRecord) -> Result<Row, String> {
        let table = self.table_format.replace("${topic}", &r.topic);
        let mut pk: Vec<Cell> = Vec::new();
        match self.pk_mode.as_str() {
            "kafka" => {
                let names = match self.pk_fields.as_slice() {
                    [t, p, o] => [t.clone(), p.clone(), o.clone()],
                    _ => [
                        "__connect_topic".to_string(),
                        "__connect_partition".to_string(),
                        "__connect_offset".to_string(),
                    ],
                };
                pk.push((
                    names[0].clone(),
                    Schema::of(Type::String),
                    Value::String(r.topic.clone()),
                ));
                pk.push((
                    names[1].clone(),
                    Schema::of(Type::Int32),
                    Value::Int(i64::from(r.partition)),
                ));
                pk.push((
                    names[2].clone(),
                    Schema::of(Type::Int64),
                    Value::Int(r.offset),
                ));
            }
            "record_key" => match (&r.key_schema, &r.key) {
                (Some(s), Value::Struct(fields)) => {
                    let Type::Struct(defs) = &s.kind else {
                        return Err("the key's schema is not a struct".to_string());
                    };
                    for d in defs {
                        if self.pk_fields.is_empty() || self.pk_fields.contains(&d.name) {
                            let v = fields
                                .iter()
                                .find(|(n, _)| *n == d.name)
                                .map_or(Value::Null, |(_, v)| v.clone());
                            pk.push((d.name.clone(), d.schema.clone(), v));
                        }
                    }
                }
                (schema, Value::Null) if schema.is_none() => {
                    return Err("pk.mode=record_key needs a key; the record has none".to_string());
                }
                (schema, v) => {
                    let name = self
                        .pk_fields
                        .first()
                        .cloned()
                        .unwrap_or_else(|| "__connect_key".to_string());
                    let schema = schema.clone().unwrap_or_else(|| match v {
                        Value::Int(_) => Schema::of(Type::Int64),
                        Value::Float(_) => Schema::of(Type::Float64),
                        Value::Boolean(_) => Schema::of(Type::Boolean),
                        _ => Schema::of(Type::String),
                    });
                    pk.push((name, schema, v.clone()));
                }
            },
            _ => {}
        }
        let delete = r.value == Value::Null;
        if delete {
            if !self.deletes {
                return Err("a tombstone, and delete.enabled is false".to_string());
            }
            let pk_len = pk.len();
            return Ok(Row {
                table,
                cells: pk,
                pk: pk_len,
                delete: true,
            });
        }
        let (Some(schema), Value::Struct(values)) = (&r.value_schema, &r.value) else {
            return Err(format!(
                "the JDBC sink needs values that are structs with a schema (JsonConverter with schemas.enable=true, or AvroConverter); this one is {}",
                if r.value_schema.is_none() {
                    "without a schema"
                } else {
                    "not a struct"
                }
            ));
        };
        let Type::Struct(defs) = &schema.kind else {
            return Err("the value's schema is not a struct".to_string());
        };
        let mut cells = Vec::new();
        for d in defs {
            if !self.whitelist.is_empty() && !self.whitelist.contains(&d.name) {
                continue;
            }
            let v = values
                .iter()
                .find(|(n, _)| *n == d.name)
                .map_or(Value::Null, |(_, v)| v.clone());
            cells.push((d.name.clone(), d.schema.clone(), v));
        }
        if self.pk_mode == "record_value" {
            for f in &self.pk_fields {
                let i = cells
                    .iter()
                    .position(|(n, _, _)| n == f)
                    .ok_or_else(|| format!("pk.fields names {f}, which the value does not have"))?;
                pk.push(cells.remove(i));
            }
        }
        let pk_len = pk.len();
        cells.retain(|(n, _, _)| !pk.iter().any(|(p, _, _)| p == n));
        pk.extend(cells);
        Ok(Row {
            table,
            cells: pk,
            pk: pk_len,
            delete: false,
        })
    }

    /// Creates the table or adds its missing columns, as allowed; its columns.
    fn prepare_table(&mut self, row: &Row) -> Result<(), ConnectError> {
        if let Some(columns) = self.tables.get(&row.table) {
            if row.cells.iter().all(|(n, _, _)| columns.contains(n)) {
                return Ok(());
            }
        }
        let table = row.table.clone();
        let (schema_name, bare) = match table.rsplit_once('.') {
            Some((s, t)) => (Some(s.to_string()), t.to_string()),
            None => (None, table.clone()),
        };
        let read_columns = |client: &mut postgres::Client| -> Result<Vec<String>, ConnectError> {
            let rows = client
                .query(
                    "SELECT column_name::text FROM information_schema.columns \
                     WHERE table_name = $1 AND table_schema = COALESCE($2, current_schema()) \
                     ORDER BY ordinal_position",
                    &[&bare, &schema_name],
                )
                .map_err(|e| {
                    ConnectError::new(format!("cannot read the columns of {table}: {e}"))
                })?;
            Ok(rows.iter().map(|r| r.get::<_, String>(0)).collect())
        };
        let (auto_create, auto_evolve) = (self.auto_create, self.auto_evolve);
        let client = self.client()?;
        let mut columns = read_columns(client)?;
        if columns.is_empty() {
            if !auto_create {
                return Err(ConnectError::new(format!(
                    "Table {table} is missing and auto-creation is disabled (auto.create=false)"
                )));
            }
            let mut defs = Vec::new();
            for (i, (name, schema, _)) in row.cells.iter().enumerate() {
                let ty = sql_type(schema).map_err(|e| ConnectError::new(format!("{name}: {e}")))?;
                let null = if schema.optional && i >= row.pk {
                    ""
                } else {
                    " NOT NULL"
                };
                defs.push(format!("{} {ty}{null}", quote(name)));
            }
            if row.pk > 0 {
                let keys: Vec<String> = row.cells[..row.pk]
                    .iter()
                    .map(|(n, _, _)| quote(n))
                    .collect();
                defs.push(format!("PRIMARY KEY({})", keys.join(",")));
            }
            let sql = format!(
                "CREATE TABLE IF NOT EXISTS {} ({})",
                quote_table(&table),
                defs.join(", ")
            );
            client
                .batch_execute(&sql)
                .map_err(|e| ConnectError::new(format!("cannot create {table}: {e}")))?;
            columns = read_columns(client)?;
        }
        let missing: Vec<&Cell> = row
            .cells
            .iter()
            .filter(|(n, _, _)| !columns.contains(n))
            .collect();
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|(n, _, _)| n.as_str()).collect();
            if !auto_evolve {
                return Err(ConnectError::new(format!(
                    "Table {table} is missing fields ({}) and auto-evolution is disabled (auto.evolve=false)",
                    names.join(", ")
                )));
            }
            for (name, schema, _) in missing {
                let ty = sql_type(schema).map_err(|e| ConnectError::new(format!("{name}: {e}")))?;
                let sql = format!(
                    "ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {ty}",
                    quote_table(&table),
                    quote(name)
                );
                client
                    .batch_execute(&sql)
                    .map_err(|e| ConnectError::new(format!("cannot add {name} to {table}: {e}")))?;
            }
            columns = read_columns(client)?;
        }
        self.tables.insert(table, columns);
        Ok(())
    }

    /// The statement for `rows` rows like `first`.
    fn statement(&mut self, first: &Row, rows: usize) -> Result<postgres::Statement, ConnectError> {
        let table = quote_table(&first.table);
        let names: Vec<String> = first.cells.iter().map(|(n, _, _)| quote(n)).collect();
        let keys = &names[..first.pk];
        let width = names.len();
        let sql = if first.delete {
            let cond: Vec<String> = keys
                .iter()
                .enumerate()
                .map(|(i, k)| format!("{k} = ${}", i + 1))
                .collect();
            format!("DELETE FROM {table} WHERE {}", cond.join(" AND "))
        } else if self.mode == "update" {
            let set: Vec<String> = names[first.pk..]
                .iter()
                .enumerate()
                .map(|(i, n)| format!("{n} = ${}", first.pk + i + 1))
                .collect();
            let cond: Vec<String> = keys
                .iter()
                .enumerate()
                .map(|(i, k)| format!("{k} = ${}", i + 1))
                .collect();
            format!(
                "UPDATE {table} SET {} WHERE {}",
                set.join(", "),
                cond.join(" AND ")
            )
        } else {
            let values: Vec<String> = (0..rows)
                .map(|r| {
                    let ps: Vec<String> = (0..width)
                        .map(|c| format!("${}", r * width + c + 1))
                        .collect();
                    format!("({})", ps.join(","))
                })
                .collect();
            let mut sql = format!(
                "INSERT INTO {table} ({}) VALUES {}",
                names.join(","),
                values.join(",")
            );
            if self.mode == "upsert" {
                let others = &names[first.pk..];
                if others.is_empty() {
                    sql.push_str(&format!(" ON CONFLICT ({}) DO NOTHING", keys.join(",")));
                } else {
                    let set: Vec<String> =
                        others.iter().map(|n| format!("{n}=EXCLUDED.{n}")).collect();
                    sql.push_str(&format!(
                        " ON CONFLICT ({}) DO UPDATE SET {}",
                        keys.join(","),
                        set.join(",")
                    ));
                }
            }
            sql
        };
        if let Some(s) = self.statements.get(&sql) {
            return Ok(s.clone());
        }
        let statement = self
            .client()?
            .prepare(&sql)
            .map_err(|e| ConnectError::new(format!("cannot prepare a write to {table}: {e}")))?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    /// Writes rows of one shape in one transaction's statements.
    fn write(&mut self, tx_rows: &[Row]) -> Result<(), ConnectError> {
        // Groups of consecutive rows of one table, kind and column list.
        let mut groups: Vec<(usize, usize)> = Vec::new();
        for (i, row) in tx_rows.iter().enumerate() {
            let same = groups.last().is_some_and(|(start, _)| {
                let first = &tx_rows[*start];
                first.table == row.table
                    && first.delete == row.delete
                    && first.cells.len() == row.cells.len()
                    && first.cells.iter().zip(&row.cells).all(|(a, b)| a.0 == b.0)
            });
            match groups.last_mut() {
                Some((_, end)) if same => *end = i + 1,
                _ => groups.push((i, i + 1)),
            }
        }
        let mut work = Vec::new();
        for (start, end) in groups {
            self.prepare_table(&tx_rows[start])?;
            let width = tx_rows[start].cells.len().max(1);
            // One statement per row for updates and deletes; inserts in chunks within
            // batch.size rows and PostgreSQL's 65,535 parameters.
            let chunk = if tx_rows[start].delete || self.mode == "update" {
                1
            } else {
                self.batch_size.min(65_535 / width).max(1)
            };
            let mut at = start;
            while at < end {
                let n = chunk.min(end - at);
                let statement = self.statement(&tx_rows[at], n)?;
                work.push((statement, at, n));
                at += n;
            }
        }
        let client = self.client()?;
        let mut tx = client
            .transaction()
            .map_err(|e| ConnectError::new(format!("cannot begin a transaction: {e}")))?;
        for (statement, at, n) in work {
            let types = statement.params().to_vec();
            let mut params: Vec<Box<dyn ToSql + Sync>> = Vec::with_capacity(types.len());
            for row in &tx_rows[at..at + n] {
                // Parameters follow the cells: the key first (all a delete needs), then the
                // rest — the order of INSERT's columns and of UPDATE's WHERE and SET.
                let cells = if row.delete {
                    &row.cells[..row.pk]
                } else {
                    &row.cells[..]
                };
                for (name, _, v) in cells {
                    let ty = &types[params.len()];
                    params.push(param(v, ty, name).map_err(ConnectError::new)?);
                }
            }
            let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref()).collect();
            tx.execute(&statement, &refs).map_err(|e| {
                ConnectError::new(format!("cannot write to {}: {e}", tx_rows[at].table))
            })?;
        }
        tx.commit()
            .map_err(|e| ConnectError::new(format!("cannot commit the transaction: {e}")))
    }
}

impl SinkTask for JdbcSinkTask {
    fn start(&mut self) -> Result<(), ConnectError> {
        self.client()?;
        Ok(())
    }

    fn put(&mut self, records: Vec<SinkRecord>) -> Result<(), ConnectError> {
        let mut rows = Vec::with_capacity(records.len());
        for r in &records {
            match self.row(r) {
                Ok(row) => rows.push(row),
                // A tombstone with deletes off is skipped, as Confluent's sink does.
                Err(e) if r.value == Value::Null && !self.deletes => {
                    tracing::debug!(error = %e, "skipping a tombstone");
                }
                Err(e) => {
                    return Err(ConnectError::new(format!(
                        "the record at {}-{}@{}: {e}",
                        r.topic, r.partition, r.offset
                    )));
                }
            }
        }
        if rows.is_empty() {
            return Ok(());
        }
        // A connection lost between batches is opened again once.
        match self.write(&rows) {
            Err(e)
                if self
                    .client
                    .as_ref()
                    .is_some_and(postgres::Client::is_closed) =>
            {
                tracing::warn!(error = %e, "the connection to PostgreSQL was lost; retrying");
                self.write(&rows)
            }
            other => other,
        }
    }

    fn flush(&mut self) -> Result<(), ConnectError> {
        // Every put is already committed.
        Ok(())
    }
}
