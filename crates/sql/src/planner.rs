//! Compiles a `SELECT` onto a Brook Streams topology.
//!
//! Rows inside the topology are flat: a record's key is a row of the key columns, its value a
//! row of every column the query can name — keys, values, `ROWTIME` (and the window bounds of
//! windowed sources) — so expressions read one row. Aggregations keep one state per aggregate
//! call in a row (in Brook SQL's internal encoding, in a changelogged store), and their
//! results are projected from `[group values…, aggregate results…, WINDOWSTART, WINDOWEND]`.

use std::sync::Arc;
use std::time::Duration;

use brook_streams::dsl::{
    Consumed, DeserializationHandler, FixedKeyProcessor, FixedKeyRecord, Grouped, JoinWindows,
    KStream, KTable, Materialized, Produced, Repartitioned, SessionWindows, StreamJoined,
    StreamsBuilder, TimeWindows,
};
use brook_streams::serdes::Serdes;
use brook_streams::topology::Topology;
use brook_streams::windowed::{SessionWindowedSerde, TimeWindowedSerde, Windowed};

use crate::ast::{Emit, Expr, JoinKind, Query, Relation, SelectItem, SourceKind, WindowKind};
use crate::catalog::{Catalog, ROWTIME, Source, WINDOWEND, WINDOWSTART, WindowType};
use crate::error::{Result, SqlError};
use crate::expr::{Compiled, Scope, ScopeColumn, compile};
use crate::format::internal::InternalSerde;
use crate::format::{KeySerde, ValueSerde};
use crate::functions::{self, Aggregator};
use crate::types::SqlType;
use crate::value::{Row, Value};

/// What a query produces: its columns in SELECT order and which are the key.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputSchema {
    /// The columns, in SELECT order.
    pub columns: Vec<(String, SqlType)>,
    /// Positions of the key columns in `columns`, in key order.
    pub key_positions: Vec<usize>,
    /// A stream or a table.
    pub kind: SourceKind,
    /// Windowed keys.
    pub window: Option<WindowType>,
    /// Key columns the projection lacks (a persistent query must select them).
    pub missing_keys: Vec<String>,
}

impl OutputSchema {
    /// The key columns.
    pub fn key_columns(&self) -> Vec<(String, SqlType)> {
        self.key_positions
            .iter()
            .map(|i| self.columns[*i].clone())
            .collect()
    }

    /// The value columns (all but the keys and the window bounds).
    pub fn value_columns(&self) -> Vec<(String, SqlType)> {
        self.value_positions()
            .map(|i| self.columns[i].clone())
            .collect()
    }

    /// Positions of the value columns in `columns`.
    pub fn value_positions(&self) -> impl Iterator<Item = usize> + '_ {
        let bound = |i: usize| {
            self.window.is_some() && matches!(self.columns[i].0.as_str(), WINDOWSTART | WINDOWEND)
        };
        (0..self.columns.len()).filter(move |i| !self.key_positions.contains(i) && !bound(*i))
    }
}

/// Where the query's rows go.
pub enum Sink {
    /// A topic, with the target source's formats.
    Topic(Box<Source>),
    /// A callback per row (push queries): the projected row, in SELECT order.
    Rows(Arc<dyn Fn(Row) + Send + Sync>),
    /// Only the query's store, for pull queries (`CREATE SOURCE TABLE`): nothing is written.
    Store,
}

/// The store a query materializes its table in, for pull queries.
#[derive(Debug, Clone)]
pub struct QueryStore {
    /// The store's name.
    pub name: String,
    /// Windowed keys.
    pub window: Option<WindowType>,
    /// Computes a result row (SELECT order) from a key, a stored value and window bounds;
    /// None when HAVING filters it out.
    pub project: Arc<Projector>,
}

/// Turns a stored value into a result row.
#[derive(Debug)]
pub enum Projector {
    /// An aggregation's state: the aggregates' results, HAVING, then the select list.
    Aggregate {
        /// One per aggregate call, in the state's order.
        aggregators: Vec<Aggregator>,
        /// HAVING, over the group's keys, results and window bounds.
        having: Option<Compiled>,
        /// The select list, over the same.
        select: Vec<Compiled>,
    },
    /// A table's row as the query projected it (non-aggregating CREATE TABLE AS SELECT).
    Stored,
}

impl Projector {
    /// The result row for a group's key values, its state and its window.
    pub fn project(
        &self,
        key: &[Value],
        state: &[Value],
        window: Option<(i64, i64)>,
    ) -> Option<Row> {
        let Projector::Aggregate {
            aggregators,
            having,
            select,
        } = self
        else {
            return Some(state.to_vec());
        };
        let mut post = Vec::with_capacity(key.len() + state.len() + 2);
        post.extend_from_slice(key);
        for (a, s) in aggregators.iter().zip(state) {
            post.push(a.result(s));
        }
        let (start, end) = window.map_or((Value::Null, Value::Null), |(s, e)| {
            (Value::Bigint(s), Value::Bigint(e))
        });
        post.push(start);
        post.push(end);
        if let Some(h) = having
            && !h.is_true(&post)
        {
            return None;
        }
        Some(select.iter().map(|e| e.eval(&post)).collect())
    }
}

/// A compiled query.
pub struct Planned {
    /// The topology.
    pub topology: Topology,
    /// Its output.
    pub schema: OutputSchema,
    /// The sources it reads.
    pub sources: Vec<String>,
    /// Its aggregation store, for pull queries.
    pub store: Option<QueryStore>,
}

/// The rows flowing between steps.
enum Flow {
    Stream(KStream<Row, Row>),
    Table(KTable<Row, Row>),
}

struct Step {
    flow: Flow,
    scope: Scope,
    /// Positions in the row of the key columns.
    key: Vec<usize>,
    window: Option<WindowType>,
}

/// Compiles `query` over `catalog`; `sink` is asked for the output once the schema is known.
pub fn plan(
    catalog: &Catalog,
    query: &Query,
    store_prefix: &str,
    sink: impl FnOnce(&OutputSchema) -> Result<Sink>,
) -> Result<Planned> {
    let builder = StreamsBuilder::new();
    let mut sources = Vec::new();
    let step = relation(&builder, catalog, &query.from, &mut sources)?;
    if query.window.is_some() && query.group_by.is_empty() {
        return Err(SqlError::statement(
            "WINDOW needs a GROUP BY: windows group rows for aggregation",
        ));
    }
    let aggregating = !query.group_by.is_empty() || select_has_aggregate(query);
    let (schema, store) = if aggregating {
        aggregate(step, query, store_prefix, sink)?
    } else {
        project(step, query, sink)?
    };
    Ok(Planned {
        topology: builder.build(),
        schema,
        sources,
        store,
    })
}

fn select_has_aggregate(query: &Query) -> bool {
    query.select.iter().any(|item| match item {
        SelectItem::Expr { expr, .. } => has_aggregate(expr),
        _ => false,
    }) || query.having.is_some()
}

fn has_aggregate(e: &Expr) -> bool {
    let mut found = false;
    visit(e, &mut |x| {
        if let Expr::Function { name, .. } = x {
            found |= functions::aggregate(name).is_some();
        }
    });
    found
}

fn visit(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    match e {
        Expr::Binary(_, a, b) | Expr::Subscript(a, b) => {
            visit(a, f);
            visit(b, f);
        }
        Expr::Negate(a)
        | Expr::Not(a)
        | Expr::Cast(a, _)
        | Expr::Field(a, _)
        | Expr::IsNull(a, _) => visit(a, f),
        Expr::Function { args, .. } | Expr::Array(args) => args.iter().for_each(|a| visit(a, f)),
        Expr::Case {
            operand,
            whens,
            otherwise,
        } => {
            if let Some(o) = operand {
                visit(o, f);
            }
            for (w, t) in whens {
                visit(w, f);
                visit(t, f);
            }
            if let Some(o) = otherwise {
                visit(o, f);
            }
        }
        Expr::Between(a, b, c, _) => {
            visit(a, f);
            visit(b, f);
            visit(c, f);
        }
        Expr::InList(a, list, _) => {
            visit(a, f);
            list.iter().for_each(|x| visit(x, f));
        }
        Expr::Like(a, b, _, _) => {
            visit(a, f);
            visit(b, f);
        }
        Expr::Map(entries) => entries.iter().for_each(|(k, v)| {
            visit(k, f);
            visit(v, f);
        }),
        Expr::Struct(fields) => fields.iter().for_each(|(_, v)| visit(v, f)),
        Expr::Lambda(_, body) => visit(body, f),
        Expr::Column { .. } | Expr::Literal(_) => {}
    }
}

/// Adds ROWTIME (and copies of the key columns) to each record's value; keys stay, so
/// grouping by them needs no repartition.
struct Flatten;

impl FixedKeyProcessor<Row, Row, Row> for Flatten {
    fn process(
        &mut self,
        mut record: FixedKeyRecord<Row, Row>,
        forward: &mut dyn FnMut(FixedKeyRecord<Row, Row>),
    ) {
        // In place: the value row has room for the keys and ROWTIME (see format::json).
        let mut row = std::mem::take(&mut record.value);
        row.splice(0..0, record.key().iter().cloned());
        row.push(Value::Bigint(record.timestamp));
        forward(record.with_value(row));
    }
}

/// Event time from a source's TIMESTAMP column.
type Extractor = Arc<dyn Fn(&Row, &Row, i64) -> i64 + Send + Sync>;

fn timestamp_extractor(source: &Source) -> Result<Option<Extractor>> {
    let Some(column) = &source.timestamp_column else {
        return Ok(None);
    };
    let find = |cols: &[(String, SqlType)]| cols.iter().position(|(n, _)| n == column);
    let (in_key, at, ty) = match (find(&source.key_columns), find(&source.value_columns)) {
        (Some(i), _) => (true, i, source.key_columns[i].1.clone()),
        (None, Some(i)) => (false, i, source.value_columns[i].1.clone()),
        _ => {
            return Err(SqlError::statement(format!(
                "The TIMESTAMP column set in the WITH clause does not exist in the schema: '{column}'"
            )));
        }
    };
    let format = source
        .timestamp_format
        .as_deref()
        .map(|f| crate::time::DatePattern::new(f, None))
        .transpose()
        .map_err(SqlError::statement)?;
    match (&ty, &format) {
        (SqlType::Bigint | SqlType::Timestamp, None) => {}
        (SqlType::String, Some(_)) => {}
        (SqlType::String, None) => {
            return Err(SqlError::statement(format!(
                "TIMESTAMP column {column} is a STRING: set TIMESTAMP_FORMAT too (e.g. 'yyyy-MM-dd HH:mm:ss')"
            )));
        }
        _ => {
            return Err(SqlError::statement(format!(
                "Timestamp column, `{column}`, should be LONG(INT64), TIMESTAMP, or a String with a timestamp_format specified."
            )));
        }
    }
    Ok(Some(Arc::new(move |k: &Row, v: &Row, stored: i64| {
        let value = if in_key { k.get(at) } else { v.get(at) };
        match (value, &format) {
            (Some(Value::Bigint(t) | Value::Timestamp(t)), _) => *t,
            (Some(Value::String(s)), Some(f)) => f.parse(s).unwrap_or(stored),
            _ => stored,
        }
    })))
}

fn relation(
    builder: &StreamsBuilder,
    catalog: &Catalog,
    rel: &Relation,
    sources: &mut Vec<String>,
) -> Result<Step> {
    match rel {
        Relation::Source { name, alias } => {
            let source = catalog.get(name).ok_or_else(|| {
                SqlError::statement(format!(
                    "{name} does not exist. SHOW STREAMS and SHOW TABLES list what does."
                ))
            })?;
            if source.window.is_some() {
                return Err(SqlError::statement(format!(
                    "{name} has windowed keys: reading windowed sources is not supported yet (query it with a pull query)"
                )));
            }
            sources.push(name.clone());
            let alias = alias.clone().unwrap_or_else(|| name.clone());
            let keys = source.key_columns.len();
            let mut consumed = Consumed::with(source.key_serde(), source.value_serde())
                .with_deserialization_handler(DeserializationHandler::LogAndContinue);
            if let Some(extract) = timestamp_extractor(source)? {
                consumed = consumed.with_timestamp_extractor(move |k, v, t| extract(k, v, t));
            }
            let flow = match source.kind {
                SourceKind::Stream => Flow::Stream(
                    builder
                        .stream(&source.topic, consumed)
                        .process_values(|| Flatten),
                ),
                SourceKind::Table => {
                    let table = builder.table(
                        &source.topic,
                        consumed,
                        Materialized::with(source.key_serde(), source.value_serde())
                            .named(&format!("{}-source", source.name)),
                    );
                    Flow::Table(table.map_values_with_key(move |k: &Row, v: &Row| {
                        let mut row = Vec::with_capacity(k.len() + v.len() + 1);
                        row.extend(k.iter().cloned());
                        row.extend(v.iter().cloned());
                        row.push(Value::Null);
                        row
                    }))
                }
            };
            Ok(Step {
                flow,
                scope: source.scope(&alias),
                key: (0..keys).collect(),
                window: None,
            })
        }
        Relation::Join {
            left,
            right,
            kind,
            within,
            on,
        } => {
            let l = relation(builder, catalog, left, sources)?;
            let r = relation(builder, catalog, right, sources)?;
            join(l, r, *kind, *within, on)
        }
    }
}

/// The columns of `on` (an equality) on each side.
fn join_columns(l: &Step, r: &Step, on: &Expr) -> Result<(Compiled, Compiled, SqlType)> {
    let Expr::Binary(crate::ast::BinaryOp::Eq, a, b) = on else {
        return Err(SqlError::statement(format!(
            "Unsupported join expression: {on}. Joins need one equality between the two sides (a.x = b.y)."
        )));
    };
    let side = |e: &Expr, s: &Step| compile(e, &s.scope).ok();
    let (la, rb) = (side(a, l), side(b, r));
    let (lb, ra) = (side(b, l), side(a, r));
    let ((lc, lt), (rc, rt)) = match (la, rb, lb, ra) {
        (Some(x), Some(y), _, _) => (x, y),
        (_, _, Some(x), Some(y)) => (x, y),
        _ => {
            return Err(SqlError::statement(format!(
                "Invalid join condition: {on}. Each side of the equality must name columns of one side of the join."
            )));
        }
    };
    if lt != rt && !(lt.is_numeric() && rt.is_numeric()) {
        return Err(SqlError::statement(format!(
            "Invalid join condition: types don't match. Got {lt} = {rt}."
        )));
    }
    Ok((lc, rc, lt))
}

fn rekey_stream(stream: &KStream<Row, Row>, key: Compiled, name: &str) -> KStream<Row, Row> {
    stream
        .select_key(move |_, v: &Row| vec![key.eval(v)])
        .repartition(Repartitioned::with(InternalSerde, InternalSerde).named(name))
}

fn join(
    l: Step,
    r: Step,
    kind: JoinKind,
    within: Option<crate::ast::WithinExpr>,
    on: &Expr,
) -> Result<Step> {
    let (lkey, rkey, _) = join_columns(&l, &r, on)?;
    let left_width = l.scope.columns.len();
    let right_width = r.scope.columns.len();
    let mut scope = l.scope.clone();
    scope.columns.extend(r.scope.columns.iter().cloned());
    let concat = move |a: Option<&Row>, b: Option<&Row>| -> Row {
        let mut row = Vec::with_capacity(left_width + right_width);
        match a {
            Some(a) => row.extend(a.iter().cloned()),
            None => row.resize(left_width, Value::Null),
        }
        match b {
            Some(b) => row.extend(b.iter().cloned()),
            None => row.resize(left_width + right_width, Value::Null),
        }
        row
    };
    let is_key = |c: &Compiled, key: &[usize]| c.as_column().is_some_and(|i| key == [i]);
    // The result's key is the join column of the left side (of the right one for RIGHT joins).
    let key_at = match kind {
        JoinKind::Right => left_width + rkey.as_column().unwrap_or(0),
        _ => lkey.as_column().unwrap_or(0),
    };
    let flow = match (l.flow, r.flow) {
        (Flow::Stream(ls), Flow::Stream(rs)) => {
            let Some(w) = within else {
                return Err(SqlError::statement(
                    "Stream-Stream joins must have a WITHIN clause specified. None was provided.",
                ));
            };
            if w.before_ms != w.after_ms {
                return Err(SqlError::statement(
                    "WITHIN (before, after) with two different durations is not supported yet: use WITHIN n unit",
                ));
            }
            let ls = if is_key(&lkey, &l.key) {
                ls
            } else {
                rekey_stream(&ls, lkey.clone(), "Join-left-repartition")
            };
            let rs = if is_key(&rkey, &r.key) {
                rs
            } else {
                rekey_stream(&rs, rkey.clone(), "Join-right-repartition")
            };
            let windows = JoinWindows::of_time_difference_and_grace(
                w.before_ms,
                w.grace_ms.unwrap_or(DEFAULT_GRACE_MS),
            );
            let joined = StreamJoined::with(InternalSerde, InternalSerde, InternalSerde);
            Flow::Stream(match kind {
                JoinKind::Inner => {
                    ls.join_stream_with(&rs, move |a, b| concat(Some(a), Some(b)), windows, joined)
                }
                JoinKind::Left => {
                    ls.left_join_stream_with(&rs, move |a, b| concat(Some(a), b), windows, joined)
                }
                JoinKind::Full => ls.outer_join_stream_with(&rs, concat, windows, joined),
                JoinKind::Right => {
                    rs.left_join_stream_with(&ls, move |b, a| concat(a, Some(b)), windows, joined)
                }
            })
        }
        (Flow::Stream(ls), Flow::Table(rt)) => {
            if !is_key(&rkey, &r.key) {
                return Err(SqlError::statement(format!(
                    "Invalid join condition: stream-table joins require to join on the table's primary key. Got {on}."
                )));
            }
            let ls = if is_key(&lkey, &l.key) {
                ls
            } else {
                rekey_stream(&ls, lkey.clone(), "Join-repartition")
            };
            Flow::Stream(match kind {
                JoinKind::Inner => ls.join(&materialize(&rt), move |a, b| concat(Some(a), Some(b))),
                JoinKind::Left => ls.left_join(&materialize(&rt), move |a, b| concat(Some(a), b)),
                _ => {
                    return Err(SqlError::statement(
                        "Invalid join type: RIGHT and FULL OUTER joins of a stream with a table are not supported, as in ksqlDB.",
                    ));
                }
            })
        }
        (Flow::Table(lt), Flow::Table(rt)) => {
            if !is_key(&rkey, &r.key) {
                return Err(SqlError::statement(format!(
                    "Invalid join condition: table-table joins require to join on the primary key of the right input table. Got {on}."
                )));
            }
            if is_key(&lkey, &l.key) {
                let (lt, rt) = (materialize(&lt), materialize(&rt));
                Flow::Table(match kind {
                    JoinKind::Inner => lt.join(&rt, move |a, b| concat(Some(a), Some(b))),
                    JoinKind::Left => lt.left_join(&rt, move |a, b| concat(Some(a), b)),
                    JoinKind::Full => lt.outer_join(&rt, concat),
                    JoinKind::Right => rt.left_join(&lt, move |b, a| concat(a, Some(b))),
                })
            } else {
                // A foreign-key join: the left table's column names the right table's key.
                let lk = lkey.clone();
                let (lt, rt) = (materialize(&lt), materialize(&rt));
                let extract = move |v: &Row| vec![lk.eval(v)];
                Flow::Table(match kind {
                    JoinKind::Inner => {
                        lt.join_on_foreign_key(&rt, extract, move |a, b| concat(Some(a), Some(b)))
                    }
                    JoinKind::Left => {
                        lt.left_join_on_foreign_key(&rt, extract, move |a, b| concat(Some(a), b))
                    }
                    _ => {
                        return Err(SqlError::statement(
                            "Invalid join type: foreign-key table-table joins support INNER and LEFT joins.",
                        ));
                    }
                })
            }
        }
        (Flow::Table(_), Flow::Stream(_)) => {
            return Err(SqlError::statement(
                "Invalid join order: table-stream joins are not supported; only stream-table joins. Got a table on the left.",
            ));
        }
    };
    Ok(Step {
        flow,
        scope,
        key: vec![key_at],
        window: None,
    })
}

fn materialize(t: &KTable<Row, Row>) -> KTable<Row, Row> {
    if t.queryable_store_name().is_some() {
        return t.clone();
    }
    t.materialize(Materialized::with(InternalSerde, InternalSerde))
}

/// An output column's name: the alias, a column's own name, or KSQL_COL_n.
fn output_name(expr: &Expr, alias: &Option<String>, n: usize) -> String {
    if let Some(a) = alias {
        return a.clone();
    }
    match expr {
        Expr::Column { name, .. } => name.clone(),
        Expr::Field(_, f) => f.clone(),
        _ => format!("KSQL_COL_{n}"),
    }
}

fn project(
    step: Step,
    query: &Query,
    sink: impl FnOnce(&OutputSchema) -> Result<Sink>,
) -> Result<(OutputSchema, Option<QueryStore>)> {
    let Step {
        flow,
        scope,
        key,
        window,
    } = step;
    let filter = query
        .where_clause
        .as_ref()
        .map(|w| {
            let (c, t) = compile(w, &scope)?;
            if t != SqlType::Boolean {
                return Err(SqlError::statement(format!("Type error in WHERE expression: Should evaluate to boolean but is {w} ({t}) instead.")));
            }
            Ok(c)
        })
        .transpose()?;
    // PARTITION BY: the new key, appended to the row when it is not a column.
    let (flow, scope, key) = if query.partition_by.is_empty() {
        (flow, scope, key)
    } else {
        let Flow::Stream(stream) = flow else {
            return Err(SqlError::statement(
                "PARTITION BY is only allowed on streams",
            ));
        };
        let mut scope = scope;
        let mut key = Vec::new();
        let mut computed = Vec::new();
        for (n, e) in query.partition_by.iter().enumerate() {
            let (c, t) = compile(e, &scope)?;
            match (&c, e) {
                (Compiled::Column(i), _) if !matches!(e, Expr::Literal(_)) => key.push(*i),
                _ => {
                    key.push(scope.columns.len() + computed.len());
                    computed.push((
                        c,
                        ScopeColumn {
                            qualifier: None,
                            name: format!("KSQL_COL_{n}"),
                            ty: t,
                        },
                    ));
                }
            }
        }
        let exprs: Vec<Compiled> = computed.iter().map(|(c, _)| c.clone()).collect();
        scope.columns.extend(computed.into_iter().map(|(_, s)| s));
        let positions = key.clone();
        let filter2 = filter.clone();
        let stream = stream
            .filter(move |_, v| filter2.as_ref().is_none_or(|f| f.is_true(v)))
            .map(move |_, v: &Row| {
                let mut row = v.clone();
                for e in &exprs {
                    let x = e.eval(v);
                    row.push(x);
                }
                let k: Row = positions.iter().map(|i| row[*i].clone()).collect();
                (k, row)
            });
        (Flow::Stream(stream), scope, key)
    };
    let filter = if query.partition_by.is_empty() {
        filter
    } else {
        None
    };
    // The projection.
    let (select, columns) = select_list(&scope, &query.select, window.is_some())?;
    let mut key_positions = Vec::new();
    let mut missing_keys = Vec::new();
    for k in &key {
        match select.iter().position(|(_, col)| *col == Some(*k)) {
            Some(p) => key_positions.push(p),
            None => missing_keys.push(scope.columns[*k].name.clone()),
        }
    }
    let kind = match flow {
        Flow::Stream(_) => SourceKind::Stream,
        Flow::Table(_) => SourceKind::Table,
    };
    let schema = OutputSchema {
        columns,
        key_positions,
        kind,
        window,
        missing_keys,
    };
    let exprs: Vec<Compiled> = select.into_iter().map(|(c, _)| c).collect();
    let projection = move |v: &Row| -> Row { exprs.iter().map(|e| e.eval(v)).collect() };
    match (flow, sink(&schema)?) {
        (Flow::Stream(stream), sink) => {
            let stream = stream
                .filter(move |_, v| filter.as_ref().is_none_or(|f| f.is_true(v)))
                .map_values(projection);
            emit_stream(stream, &schema, sink);
        }
        (Flow::Table(table), sink) => {
            let table = table
                .filter(move |_, v| filter.as_ref().is_none_or(|f| f.is_true(v)))
                .map_values(projection);
            // A persistent query's table is kept in a store too, for pull queries.
            if matches!(sink, Sink::Topic(_) | Sink::Store) && window.is_none() {
                let name = "Project-Materialize".to_string();
                let table = table
                    .materialize(Materialized::with(InternalSerde, InternalSerde).named(&name));
                emit_table(table, &schema, sink);
                let store = QueryStore {
                    name,
                    window: None,
                    project: Arc::new(Projector::Stored),
                };
                return Ok((schema, Some(store)));
            }
            emit_table(table, &schema, sink);
        }
    }
    Ok((schema, None))
}

/// The select list bound to `scope`: each item's compiled expression with the row position
/// it copies (when it is a plain column), and the output columns. `*` expands to every
/// column but ROWTIME (and the window bounds, unless the rows are windowed).
#[allow(clippy::type_complexity)]
pub fn select_list(
    scope: &Scope,
    items: &[SelectItem],
    windowed: bool,
) -> Result<(Vec<(Compiled, Option<usize>)>, Vec<(String, SqlType)>)> {
    let mut select = Vec::new();
    let mut columns = Vec::new();
    let hidden =
        |name: &str| name == ROWTIME || (!windowed && (name == WINDOWSTART || name == WINDOWEND));
    for (n, item) in items.iter().enumerate() {
        match item {
            SelectItem::All | SelectItem::AllOf(_) => {
                let qualifier = match item {
                    SelectItem::AllOf(q) => Some(q.as_str()),
                    _ => None,
                };
                let mut any = false;
                for (i, c) in scope.columns.iter().enumerate() {
                    if hidden(&c.name)
                        || qualifier.is_some_and(|q| c.qualifier.as_deref() != Some(q))
                    {
                        continue;
                    }
                    any = true;
                    let name = match (
                        &c.qualifier,
                        qualifier,
                        scope.columns.iter().filter(|o| o.name == c.name).count(),
                    ) {
                        (Some(q), None, 2..) => format!("{q}_{}", c.name),
                        _ => c.name.clone(),
                    };
                    select.push((Compiled::Column(i), Some(i)));
                    columns.push((name, c.ty.clone()));
                }
                if !any {
                    if let Some(q) = qualifier {
                        return Err(SqlError::statement(format!(
                            "Source {q} does not exist in the query"
                        )));
                    }
                }
            }
            SelectItem::Expr { expr, alias } => {
                let (c, t) = compile(expr, scope)?;
                let column = c.as_column();
                let name = match (alias, expr, column) {
                    (
                        None,
                        Expr::Column {
                            qualifier: Some(q),
                            name,
                        },
                        Some(_),
                    ) if scope.columns.iter().filter(|o| o.name == *name).count() > 1 => {
                        format!("{q}_{name}")
                    }
                    _ => output_name(expr, alias, n),
                };
                select.push((c, column));
                columns.push((name, t));
            }
        }
    }
    check_unique(&columns)?;
    Ok((select, columns))
}

fn check_unique(columns: &[(String, SqlType)]) -> Result<()> {
    for (i, (n, _)) in columns.iter().enumerate() {
        if columns[..i].iter().any(|(m, _)| m == n) {
            return Err(SqlError::statement(format!(
                "The projection contains a column more than once: `{n}`. Use AS to give it another name."
            )));
        }
    }
    Ok(())
}

/// Splits projected rows into key and value and writes them.
fn emit_stream(stream: KStream<Row, Row>, schema: &OutputSchema, sink: Sink) {
    match sink {
        Sink::Rows(f) => stream.foreach(move |_, v| f(v.clone())),
        Sink::Store => {}
        Sink::Topic(target) => {
            let (keys, values) = split_positions(schema);
            stream
                .map(move |_, v: &Row| {
                    (
                        keys.iter().map(|i| v[*i].clone()).collect::<Row>(),
                        values.iter().map(|i| v[*i].clone()).collect::<Row>(),
                    )
                })
                .to(
                    &target.topic,
                    Produced::with(target.key_serde(), target.value_serde()),
                );
        }
    }
}

/// An unwindowed aggregation's updates, projected (HAVING applied), to the sink.
fn emit_aggregate_table(
    table: KTable<Row, Row>,
    projector: &Arc<Projector>,
    schema: &OutputSchema,
    sink: Sink,
) {
    let p = projector.clone();
    let rows = table.to_stream().flat_map(move |k: &Row, state: &Row| {
        p.project(k, state, None)
            .map(|r| (k.clone(), r))
            .into_iter()
            .collect()
    });
    emit_stream_keyed(rows, schema, sink, KeySerdeKind::Plain);
}

fn emit_table(table: KTable<Row, Row>, schema: &OutputSchema, sink: Sink) {
    match sink {
        Sink::Rows(f) => table.to_stream().foreach(move |_, v| f(v.clone())),
        Sink::Store => {}
        Sink::Topic(target) => {
            let (keys, values) = split_positions(schema);
            table
                .to_stream_with_tombstones()
                .map(move |k: &Row, v: &Option<Row>| match v {
                    Some(v) => (
                        keys.iter().map(|i| v[*i].clone()).collect::<Row>(),
                        Some(values.iter().map(|i| v[*i].clone()).collect::<Row>()),
                    ),
                    None => (k.clone(), None),
                })
                .to(
                    &target.topic,
                    Produced::with(target.key_serde(), Serdes::optional(target.value_serde())),
                );
        }
    }
}

fn split_positions(schema: &OutputSchema) -> (Vec<usize>, Vec<usize>) {
    (
        schema.key_positions.clone(),
        schema.value_positions().collect(),
    )
}

/// An aggregate call found in SELECT or HAVING.
struct AggCall {
    expr: Expr,
    arg: Option<Compiled>,
    aggregator: Aggregator,
    ty: SqlType,
}

/// Replaces group-by expressions and aggregate calls in `e` by references to the post-
/// aggregation row's columns, collecting the calls.
fn rewrite(e: &Expr, groups: &[Expr], calls: &mut Vec<AggCall>, scope: &Scope) -> Result<Expr> {
    if let Some(i) = groups
        .iter()
        .position(|g| g == e || same_column(g, e, scope))
    {
        return Ok(col(&format!("__G{i}")));
    }
    if let Expr::Function { name, args, star } = e {
        if functions::aggregate(name).is_some() {
            if let Some(i) = calls.iter().position(|c| c.expr == *e) {
                return Ok(col(&format!("__A{i}")));
            }
            let (arg, arg_type) = match (args.first(), star) {
                (_, true) | (None, _) => (None, None),
                (Some(a), false) => {
                    if has_aggregate(a) {
                        return Err(SqlError::statement(format!(
                            "Aggregate functions can not be nested: {e}"
                        )));
                    }
                    let (c, t) = compile(a, scope)?;
                    (Some(c), Some(t))
                }
            };
            let params: Vec<Value> = args
                .iter()
                .skip(1)
                .map(|p| match p {
                    Expr::Literal(v) => Ok(v.clone()),
                    other => Err(SqlError::statement(format!(
                        "{name}'s parameters must be literals, not {other}"
                    ))),
                })
                .collect::<Result<_>>()?;
            let (aggregator, ty) =
                Aggregator::new(name, arg_type.as_ref(), &params).map_err(|m| {
                    SqlError::statement(format!(
                        "Function '{name}' does not accept these parameters: {m}"
                    ))
                })?;
            calls.push(AggCall {
                expr: e.clone(),
                arg,
                aggregator,
                ty,
            });
            return Ok(col(&format!("__A{}", calls.len() - 1)));
        }
    }
    Ok(match e {
        Expr::Column { name, .. } if name == WINDOWSTART || name == WINDOWEND => col(name),
        Expr::Column { .. } => {
            return Err(SqlError::statement(format!(
                "Non-aggregate SELECT expression(s) not part of GROUP BY: {e}\n\
                 Either add the column to the GROUP BY or remove it from the SELECT."
            )));
        }
        Expr::Literal(_) => e.clone(),
        Expr::Binary(op, a, b) => Expr::Binary(
            *op,
            Box::new(rewrite(a, groups, calls, scope)?),
            Box::new(rewrite(b, groups, calls, scope)?),
        ),
        Expr::Negate(a) => Expr::Negate(Box::new(rewrite(a, groups, calls, scope)?)),
        Expr::Not(a) => Expr::Not(Box::new(rewrite(a, groups, calls, scope)?)),
        Expr::Function { name, args, star } => Expr::Function {
            name: name.clone(),
            args: args
                .iter()
                .map(|a| rewrite(a, groups, calls, scope))
                .collect::<Result<_>>()?,
            star: *star,
        },
        Expr::Case {
            operand,
            whens,
            otherwise,
        } => Expr::Case {
            operand: operand
                .as_ref()
                .map(|o| rewrite(o, groups, calls, scope).map(Box::new))
                .transpose()?,
            whens: whens
                .iter()
                .map(|(w, t)| {
                    Ok((
                        rewrite(w, groups, calls, scope)?,
                        rewrite(t, groups, calls, scope)?,
                    ))
                })
                .collect::<Result<_>>()?,
            otherwise: otherwise
                .as_ref()
                .map(|o| rewrite(o, groups, calls, scope).map(Box::new))
                .transpose()?,
        },
        Expr::Cast(a, t) => Expr::Cast(Box::new(rewrite(a, groups, calls, scope)?), t.clone()),
        Expr::Subscript(a, b) => Expr::Subscript(
            Box::new(rewrite(a, groups, calls, scope)?),
            Box::new(rewrite(b, groups, calls, scope)?),
        ),
        Expr::Field(a, f) => Expr::Field(Box::new(rewrite(a, groups, calls, scope)?), f.clone()),
        Expr::IsNull(a, n) => Expr::IsNull(Box::new(rewrite(a, groups, calls, scope)?), *n),
        Expr::Between(a, b, c, n) => Expr::Between(
            Box::new(rewrite(a, groups, calls, scope)?),
            Box::new(rewrite(b, groups, calls, scope)?),
            Box::new(rewrite(c, groups, calls, scope)?),
            *n,
        ),
        Expr::InList(a, l, n) => Expr::InList(
            Box::new(rewrite(a, groups, calls, scope)?),
            l.iter()
                .map(|x| rewrite(x, groups, calls, scope))
                .collect::<Result<_>>()?,
            *n,
        ),
        Expr::Like(a, p, n, esc) => Expr::Like(
            Box::new(rewrite(a, groups, calls, scope)?),
            Box::new(rewrite(p, groups, calls, scope)?),
            *n,
            *esc,
        ),
        Expr::Array(items) => Expr::Array(
            items
                .iter()
                .map(|x| rewrite(x, groups, calls, scope))
                .collect::<Result<_>>()?,
        ),
        Expr::Map(entries) => Expr::Map(
            entries
                .iter()
                .map(|(k, v)| {
                    Ok((
                        rewrite(k, groups, calls, scope)?,
                        rewrite(v, groups, calls, scope)?,
                    ))
                })
                .collect::<Result<_>>()?,
        ),
        Expr::Struct(fields) => Expr::Struct(
            fields
                .iter()
                .map(|(n, v)| Ok((n.clone(), rewrite(v, groups, calls, scope)?)))
                .collect::<Result<_>>()?,
        ),
        Expr::Lambda(..) => e.clone(),
    })
}

/// Whether two expressions name the same column (one qualified, one not).
fn same_column(a: &Expr, b: &Expr, scope: &Scope) -> bool {
    match (a, b) {
        (
            Expr::Column {
                qualifier: qa,
                name: na,
            },
            Expr::Column {
                qualifier: qb,
                name: nb,
            },
        ) => {
            na == nb
                && match (
                    scope.resolve(qa.as_deref(), na),
                    scope.resolve(qb.as_deref(), nb),
                ) {
                    (Ok((i, _)), Ok((j, _))) => i == j,
                    _ => false,
                }
        }
        _ => false,
    }
}

fn col(name: &str) -> Expr {
    Expr::Column {
        qualifier: None,
        name: name.to_string(),
    }
}

const DEFAULT_GRACE_MS: i64 = 24 * 3_600_000;

fn aggregate(
    step: Step,
    query: &Query,
    store_prefix: &str,
    sink: impl FnOnce(&OutputSchema) -> Result<Sink>,
) -> Result<(OutputSchema, Option<QueryStore>)> {
    let Step {
        flow, scope, key, ..
    } = step;
    if matches!(flow, Flow::Table(_)) && query.window.is_some() {
        return Err(SqlError::statement(
            "Windowed aggregations are not supported on tables: a WINDOW clause needs a stream source",
        ));
    }
    if query.group_by.is_empty() {
        return Err(SqlError::statement(
            "Aggregations without GROUP BY are not supported yet: add a GROUP BY",
        ));
    }
    if !query.partition_by.is_empty() {
        return Err(SqlError::statement(
            "PARTITION BY and GROUP BY cannot be used together",
        ));
    }
    let filter = query
        .where_clause
        .as_ref()
        .map(|w| compile(w, &scope).map(|(c, _)| c))
        .transpose()?;
    let mut group_exprs = Vec::new();
    let mut group_types = Vec::new();
    for g in &query.group_by {
        if has_aggregate(g) {
            return Err(SqlError::statement(format!(
                "GROUP BY does not support aggregate functions: {g}"
            )));
        }
        let (c, t) = compile(g, &scope)?;
        group_exprs.push(c);
        group_types.push(t);
    }
    // Rewrite SELECT and HAVING over the post-aggregation row.
    let mut calls = Vec::new();
    let mut select_rewritten = Vec::new();
    for (n, item) in query.select.iter().enumerate() {
        let SelectItem::Expr { expr, alias } = item else {
            return Err(SqlError::statement(
                "SELECT * is not allowed with GROUP BY: name the grouped columns and aggregates",
            ));
        };
        let name = match expr {
            Expr::Function { name: f, .. }
                if alias.is_none() && functions::aggregate(f).is_some() =>
            {
                format!("KSQL_COL_{n}")
            }
            _ => output_name(expr, alias, n),
        };
        select_rewritten.push((rewrite(expr, &query.group_by, &mut calls, &scope)?, name));
    }
    let having = query
        .having
        .as_ref()
        .map(|h| rewrite(h, &query.group_by, &mut calls, &scope))
        .transpose()?;
    let mut post = Scope::default();
    for (i, t) in group_types.iter().enumerate() {
        post.columns.push(ScopeColumn {
            qualifier: None,
            name: format!("__G{i}"),
            ty: t.clone(),
        });
    }
    for (i, c) in calls.iter().enumerate() {
        post.columns.push(ScopeColumn {
            qualifier: None,
            name: format!("__A{i}"),
            ty: c.ty.clone(),
        });
    }
    post.columns.push(ScopeColumn {
        qualifier: None,
        name: WINDOWSTART.into(),
        ty: SqlType::Bigint,
    });
    post.columns.push(ScopeColumn {
        qualifier: None,
        name: WINDOWEND.into(),
        ty: SqlType::Bigint,
    });
    let mut select = Vec::new();
    let mut columns = Vec::new();
    let mut key_positions = vec![usize::MAX; group_exprs.len()];
    for (p, (e, name)) in select_rewritten.iter().enumerate() {
        let (c, t) = compile(e, &post)?;
        if let Some(i) = c.as_column().filter(|i| *i < group_exprs.len()) {
            if key_positions[i] == usize::MAX {
                key_positions[i] = p;
            }
        }
        select.push(c);
        columns.push((name.clone(), t));
    }
    check_unique(&columns)?;
    let missing_keys: Vec<String> = key_positions
        .iter()
        .enumerate()
        .filter(|(_, p)| **p == usize::MAX)
        .map(|(i, _)| query.group_by[i].to_string())
        .collect();
    let key_positions: Vec<usize> = key_positions
        .into_iter()
        .filter(|p| *p != usize::MAX)
        .collect();
    let having = having
        .map(|h| {
            let (c, t) = compile(&h, &post)?;
            if t != SqlType::Boolean {
                return Err(SqlError::statement(format!(
                    "HAVING must be a BOOLEAN expression, not {t}"
                )));
            }
            Ok(c)
        })
        .transpose()?;
    let window = query.window.map(|w| match w.kind {
        WindowKind::Session { .. } => WindowType::Session,
        WindowKind::Tumbling { size_ms } | WindowKind::Hopping { size_ms, .. } => {
            WindowType::Time(size_ms)
        }
    });
    let schema = OutputSchema {
        columns,
        key_positions,
        kind: SourceKind::Table,
        window,
        missing_keys,
    };
    let aggregators: Vec<Aggregator> = calls.iter().map(|c| c.aggregator.clone()).collect();
    if matches!(flow, Flow::Table(_)) {
        let cannot: Vec<String> = calls
            .iter()
            .filter(|c| !c.aggregator.can_undo())
            .map(|c| match &c.expr {
                Expr::Function { name, .. } => name.to_uppercase(),
                e => e.to_string(),
            })
            .collect();
        if !cannot.is_empty() {
            return Err(SqlError::statement(format!(
                "The aggregation function(s) ({}) cannot be applied to a table source, only to a stream source.",
                cannot.join(", ")
            )));
        }
    }
    let args: Vec<Option<Compiled>> = calls.iter().map(|c| c.arg.clone()).collect();
    let projector = Arc::new(Projector::Aggregate {
        aggregators: aggregators.clone(),
        having,
        select,
    });

    let init_aggs = aggregators.clone();
    let init = move || -> Row { init_aggs.iter().map(Aggregator::init).collect() };
    let update_aggs = aggregators.clone();
    let update = move |_: &Row, args: &Row, mut state: Row| -> Row {
        for ((a, s), x) in update_aggs.iter().zip(state.iter_mut()).zip(args) {
            a.update(s, x);
        }
        state
    };
    let store_name = format!("{store_prefix}Aggregate-Materialize");
    let materialized = |retention: Option<i64>| {
        let m = Materialized::with(InternalSerde, InternalSerde).named(&store_name);
        match retention {
            Some(r) => m.with_retention(Duration::from_millis(r.max(0) as u64)),
            None => m,
        }
    };
    let sink = sink(&schema)?;
    let store = QueryStore {
        name: store_name.clone(),
        window,
        project: projector.clone(),
    };
    let to_args = move |v: &Row| -> Row {
        args.iter()
            .map(|a| a.as_ref().map_or(Value::Null, |a| a.eval(v)))
            .collect()
    };
    let stream = match flow {
        Flow::Stream(stream) => stream,
        Flow::Table(table) => {
            // A table's rows are regrouped: a row that changes or goes leaves its old group
            // (the aggregates' undo) and joins its new one.
            let undo_aggs = aggregators.clone();
            let undo = move |_: &Row, args: &Row, mut state: Row| -> Row {
                for ((a, s), x) in undo_aggs.iter().zip(state.iter_mut()).zip(args) {
                    a.undo(s, x);
                }
                state
            };
            let groups = group_exprs.clone();
            let table = table
                .filter(move |_, v| {
                    filter.as_ref().is_none_or(|f| f.is_true(v))
                        && !groups.iter().any(|g| g.eval(v).is_null())
                })
                .group_by(
                    move |_, v: &Row| {
                        let k: Row = group_exprs.iter().map(|g| g.eval(v)).collect();
                        (k, to_args(v))
                    },
                    Grouped::with(InternalSerde, InternalSerde).named("Aggregate-GroupBy"),
                )
                .aggregate(init, update, undo, materialized(None));
            emit_aggregate_table(table, &projector, &schema, sink);
            return Ok((schema, Some(store)));
        }
    };

    // Rows reduced to the aggregates' arguments, keyed by the group.
    let grouped_by_key = group_exprs.len() == key.len()
        && group_exprs
            .iter()
            .zip(&key)
            .all(|(g, k)| g.as_column() == Some(*k));
    let filtered = stream.filter(move |_, v| filter.as_ref().is_none_or(|f| f.is_true(v)));
    let grouped = if grouped_by_key {
        filtered
            .map_values(to_args)
            .group_by_key(Grouped::with(InternalSerde, InternalSerde))
    } else {
        filtered
            .map(move |_, v: &Row| {
                let k: Row = group_exprs.iter().map(|g| g.eval(v)).collect();
                (k, to_args(v))
            })
            // ksqlDB drops rows whose grouping is NULL.
            .filter(|k, _| !k.iter().any(Value::is_null))
            .group_by_key(Grouped::with(InternalSerde, InternalSerde).named("Aggregate-GroupBy"))
    };
    match query.window {
        None => {
            let table = grouped.aggregate(init, update, materialized(None));
            emit_aggregate_table(table, &projector, &schema, sink);
        }
        Some(w) => {
            let grace = w.grace_ms.unwrap_or(DEFAULT_GRACE_MS);
            let table = match w.kind {
                WindowKind::Tumbling { size_ms } | WindowKind::Hopping { size_ms, .. } => {
                    let mut windows = TimeWindows::of_size_and_grace(size_ms, grace);
                    if let WindowKind::Hopping { advance_ms, .. } = w.kind {
                        windows = windows.advance_by(advance_ms);
                    }
                    grouped.windowed_by(windows).aggregate(
                        init,
                        update,
                        materialized(w.retention_ms),
                    )
                }
                WindowKind::Session { gap_ms } => {
                    let merge_aggs = aggregators.clone();
                    grouped
                        .windowed_by_sessions(SessionWindows::with_inactivity_gap_and_grace(
                            gap_ms, grace,
                        ))
                        .aggregate(
                            init,
                            update,
                            move |_, a: Row, b: &Row| merge_states(&merge_aggs, a, b),
                            materialized(w.retention_ms),
                        )
                }
            };
            let table = if query.emit == Some(Emit::Final) {
                table.suppress_until_window_closes()
            } else {
                table
            };
            let p = projector.clone();
            let rows = table
                .to_stream()
                .flat_map(move |k: &Windowed<Row>, state: &Row| {
                    p.project(&k.key, state, Some((k.window.start_ms, k.window.end_ms)))
                        .map(|r| (k.clone(), r))
                        .into_iter()
                        .collect()
                });
            let key_kind = match w.kind {
                WindowKind::Session { .. } => KeySerdeKind::Session,
                WindowKind::Tumbling { size_ms } | WindowKind::Hopping { size_ms, .. } => {
                    KeySerdeKind::Time(size_ms)
                }
            };
            emit_stream_keyed(rows, &schema, sink, key_kind);
        }
    }
    Ok((schema, Some(store)))
}

/// Combines two sessions' states: counts and sums add, collections join, the latest wins.
fn merge_states(aggs: &[Aggregator], a: Row, b: &Row) -> Row {
    a.into_iter()
        .zip(b)
        .zip(aggs)
        .map(|((x, y), agg)| agg.merge(x, y))
        .collect()
}

enum KeySerdeKind {
    Plain,
    Time(i64),
    Session,
}

fn emit_stream_keyed<K>(
    rows: KStream<K, Row>,
    schema: &OutputSchema,
    sink: Sink,
    key_kind: KeySerdeKind,
) where
    K: KeyOf + Clone + 'static,
{
    match sink {
        Sink::Rows(f) => rows.foreach(move |_, v| f(v.clone())),
        Sink::Store => {}
        Sink::Topic(target) => {
            let (_, values) = split_positions(schema);
            let rows = rows
                .map_values(move |v: &Row| values.iter().map(|i| v[*i].clone()).collect::<Row>());
            K::write(rows, &target, key_kind);
        }
    }
}

/// Writes rows keyed by a plain or windowed key.
trait KeyOf: Sized {
    fn write(rows: KStream<Self, Row>, target: &Source, kind: KeySerdeKind);
}

impl KeyOf for Row {
    fn write(rows: KStream<Row, Row>, target: &Source, _: KeySerdeKind) {
        rows.to(
            &target.topic,
            Produced::with(target.key_serde(), target.value_serde()),
        );
    }
}

impl KeyOf for Windowed<Row> {
    fn write(rows: KStream<Windowed<Row>, Row>, target: &Source, kind: KeySerdeKind) {
        let key: KeySerde = target.key_serde();
        let value: ValueSerde = target.value_serde();
        match kind {
            KeySerdeKind::Session => rows.to(
                &target.topic,
                Produced::with(SessionWindowedSerde::new(key), value),
            ),
            KeySerdeKind::Time(size) => rows.to(
                &target.topic,
                Produced::with(TimeWindowedSerde::new(key, size), value),
            ),
            KeySerdeKind::Plain => unreachable!("windowed rows have a window"),
        }
    }
}
