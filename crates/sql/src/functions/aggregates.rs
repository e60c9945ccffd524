//! Aggregate functions. An aggregate's state per group is a [`Value`]; [`Aggregator::update`]
//! folds one row's argument in, [`Aggregator::undo`] takes one out again (for aggregations
//! over tables, where a row's old value leaves its group), [`Aggregator::result`] is what the
//! query shows.

use std::cmp::Ordering;

use crate::ast::BinaryOp;
use crate::expr::{NumericKind, arithmetic};
use crate::types::SqlType;
use crate::value::Value;

/// An aggregate function's description.
pub struct AggregateFn {
    /// Its name.
    pub name: &'static str,
    /// How it is called.
    pub signature: &'static str,
    /// What it does.
    pub description: &'static str,
}

/// Every aggregate function.
pub static ALL: &[AggregateFn] = &[
    AggregateFn {
        name: "COUNT",
        signature: "COUNT(*) | COUNT(col)",
        description: "The number of rows (COUNT(col): rows where col is not NULL).",
    },
    AggregateFn {
        name: "SUM",
        signature: "SUM(number)",
        description: "The sum.",
    },
    AggregateFn {
        name: "AVG",
        signature: "AVG(number)",
        description: "The average, as a DOUBLE.",
    },
    AggregateFn {
        name: "MIN",
        signature: "MIN(col)",
        description: "The smallest value.",
    },
    AggregateFn {
        name: "MAX",
        signature: "MAX(col)",
        description: "The largest value.",
    },
    AggregateFn {
        name: "COUNT_DISTINCT",
        signature: "COUNT_DISTINCT(col)",
        description: "The number of distinct values (exact).",
    },
    AggregateFn {
        name: "LATEST_BY_OFFSET",
        signature: "LATEST_BY_OFFSET(col [, ignoreNulls BOOLEAN])",
        description: "The value of the latest row.",
    },
    AggregateFn {
        name: "EARLIEST_BY_OFFSET",
        signature: "EARLIEST_BY_OFFSET(col [, ignoreNulls BOOLEAN])",
        description: "The value of the earliest row.",
    },
    AggregateFn {
        name: "COLLECT_LIST",
        signature: "COLLECT_LIST(col)",
        description: "The values, in order (at most 1000).",
    },
    AggregateFn {
        name: "COLLECT_SET",
        signature: "COLLECT_SET(col)",
        description: "The distinct values (at most 1000).",
    },
    AggregateFn {
        name: "TOPK",
        signature: "TOPK(col, k INT)",
        description: "The k largest values, largest first.",
    },
    AggregateFn {
        name: "TOPKDISTINCT",
        signature: "TOPKDISTINCT(col, k INT)",
        description: "The k largest distinct values.",
    },
    AggregateFn {
        name: "HISTOGRAM",
        signature: "HISTOGRAM(STRING)",
        description: "How often each value occurs (at most 1000 values).",
    },
    AggregateFn {
        name: "STDDEV_SAMP",
        signature: "STDDEV_SAMP(number)",
        description: "The sample standard deviation.",
    },
];

const COLLECTION_LIMIT: usize = 1000;

/// One aggregate call in a query, typed.
#[derive(Debug, Clone, PartialEq)]
pub enum Aggregator {
    /// `COUNT(*)`.
    CountAll,
    /// `COUNT(col)`.
    Count,
    /// `SUM`, in the argument's type.
    Sum(NumericKind, SqlType),
    /// `AVG`.
    Avg,
    /// `MIN`.
    Min,
    /// `MAX`.
    Max,
    /// `COUNT_DISTINCT`.
    CountDistinct,
    /// `LATEST_BY_OFFSET`, ignoring NULLs or not.
    Latest(bool),
    /// `EARLIEST_BY_OFFSET`, ignoring NULLs or not.
    Earliest(bool),
    /// `COLLECT_LIST`.
    CollectList,
    /// `COLLECT_SET`.
    CollectSet,
    /// `TOPK`.
    TopK(usize, bool),
    /// `HISTOGRAM`.
    Histogram,
    /// `STDDEV_SAMP`.
    StddevSamp,
}

impl Aggregator {
    /// The aggregator for `name` over an argument of `arg` type (None for `COUNT(*)`), with
    /// its literal parameters; and its result type.
    pub fn new(
        name: &str,
        arg: Option<&SqlType>,
        params: &[Value],
    ) -> Result<(Aggregator, SqlType), String> {
        let arg_type = || {
            arg.cloned()
                .ok_or_else(|| format!("{name} needs an argument"))
        };
        let numeric = || -> Result<SqlType, String> {
            let t = arg_type()?;
            if t.is_numeric() {
                Ok(t)
            } else {
                Err(format!("{name} needs a number, not {t}"))
            }
        };
        Ok(match name {
            "COUNT" => match arg {
                None => (Aggregator::CountAll, SqlType::Bigint),
                Some(_) => (Aggregator::Count, SqlType::Bigint),
            },
            "SUM" => {
                let t = numeric()?;
                let (kind, out) = match &t {
                    SqlType::Int => (NumericKind::Int, SqlType::Int),
                    SqlType::Bigint => (NumericKind::Bigint, SqlType::Bigint),
                    SqlType::Double => (NumericKind::Double, SqlType::Double),
                    SqlType::Decimal(_, s) => (NumericKind::Decimal(*s), SqlType::Decimal(38, *s)),
                    _ => unreachable!("numeric"),
                };
                (Aggregator::Sum(kind, out.clone()), out)
            }
            "AVG" => {
                numeric()?;
                (Aggregator::Avg, SqlType::Double)
            }
            "STDDEV_SAMP" => {
                numeric()?;
                (Aggregator::StddevSamp, SqlType::Double)
            }
            "MIN" => (Aggregator::Min, arg_type()?),
            "MAX" => (Aggregator::Max, arg_type()?),
            "COUNT_DISTINCT" => {
                arg_type()?;
                (Aggregator::CountDistinct, SqlType::Bigint)
            }
            "LATEST_BY_OFFSET" | "EARLIEST_BY_OFFSET" => {
                let ignore_nulls = params.first().and_then(Value::as_bool).unwrap_or(true);
                let a = if name.starts_with("LATEST") {
                    Aggregator::Latest(ignore_nulls)
                } else {
                    Aggregator::Earliest(ignore_nulls)
                };
                (a, arg_type()?)
            }
            "COLLECT_LIST" => (
                Aggregator::CollectList,
                SqlType::Array(Box::new(arg_type()?)),
            ),
            "COLLECT_SET" => (
                Aggregator::CollectSet,
                SqlType::Array(Box::new(arg_type()?)),
            ),
            "TOPK" | "TOPKDISTINCT" => {
                let k = params
                    .first()
                    .and_then(Value::as_i64)
                    .filter(|k| *k > 0)
                    .ok_or_else(|| format!("{name} needs a positive k as its second argument"))?;
                (
                    Aggregator::TopK(k as usize, name == "TOPKDISTINCT"),
                    SqlType::Array(Box::new(arg_type()?)),
                )
            }
            "HISTOGRAM" => {
                let t = arg_type()?;
                if t != SqlType::String {
                    return Err(format!("HISTOGRAM needs a STRING, not {t}"));
                }
                (
                    Aggregator::Histogram,
                    SqlType::Map(Box::new(SqlType::String), Box::new(SqlType::Bigint)),
                )
            }
            other => return Err(format!("{other} is not an aggregate function")),
        })
    }

    /// The state of an empty group.
    pub fn init(&self) -> Value {
        match self {
            Aggregator::CountAll | Aggregator::Count => Value::Bigint(0),
            Aggregator::Avg => Value::Struct(vec![Value::Double(0.0), Value::Bigint(0)]),
            Aggregator::StddevSamp => Value::Struct(vec![
                Value::Double(0.0),
                Value::Double(0.0),
                Value::Bigint(0),
            ]),
            Aggregator::CountDistinct
            | Aggregator::CollectList
            | Aggregator::CollectSet
            | Aggregator::TopK(..) => Value::Array(Vec::new()),
            Aggregator::Histogram => Value::Map(Vec::new()),
            Aggregator::Sum(kind, _) => match kind {
                NumericKind::Int => Value::Int(0),
                NumericKind::Bigint => Value::Bigint(0),
                NumericKind::Double => Value::Double(0.0),
                NumericKind::Decimal(s) => Value::Decimal(0, *s),
                NumericKind::None => Value::Null,
            },
            Aggregator::Min | Aggregator::Max | Aggregator::Latest(_) | Aggregator::Earliest(_) => {
                Value::Null
            }
        }
    }

    /// The state with one more row whose argument is `arg`.
    pub fn update(&self, state: &mut Value, arg: &Value) {
        match self {
            Aggregator::CountAll => bump(state, 1),
            Aggregator::Count => {
                if !arg.is_null() {
                    bump(state, 1);
                }
            }
            Aggregator::Sum(kind, _) => {
                if !arg.is_null() {
                    let s = std::mem::take(state);
                    *state = arithmetic(BinaryOp::Add, *kind, s, arg.clone());
                }
            }
            Aggregator::Avg => {
                if let (Some(x), Value::Struct(f)) = (arg.as_f64(), state) {
                    f[0] = Value::Double(f[0].as_f64().unwrap_or(0.0) + x);
                    f[1] = Value::Bigint(f[1].as_i64().unwrap_or(0) + 1);
                }
            }
            Aggregator::StddevSamp => {
                if let (Some(x), Value::Struct(f)) = (arg.as_f64(), state) {
                    f[0] = Value::Double(f[0].as_f64().unwrap_or(0.0) + x);
                    f[1] = Value::Double(f[1].as_f64().unwrap_or(0.0) + x * x);
                    f[2] = Value::Bigint(f[2].as_i64().unwrap_or(0) + 1);
                }
            }
            Aggregator::Min | Aggregator::Max => {
                if arg.is_null() {
                    return;
                }
                let want = if *self == Aggregator::Min {
                    Ordering::Less
                } else {
                    Ordering::Greater
                };
                if state.is_null() || arg.sql_cmp(state) == Some(want) {
                    *state = arg.clone();
                }
            }
            Aggregator::Latest(ignore_nulls) => {
                if !(arg.is_null() && *ignore_nulls) {
                    *state = arg.clone();
                }
            }
            Aggregator::Earliest(ignore_nulls) => {
                // The state of an earliest value that is NULL is marked by a one-element array.
                if matches!(state, Value::Null) && !(arg.is_null() && *ignore_nulls) {
                    *state = Value::Array(vec![arg.clone()]);
                }
            }
            Aggregator::CountDistinct | Aggregator::CollectSet => {
                if let Value::Array(items) = state {
                    if !arg.is_null()
                        && items.len()
                            < if *self == Aggregator::CountDistinct {
                                usize::MAX
                            } else {
                                COLLECTION_LIMIT
                            }
                        && !items.contains(arg)
                    {
                        items.push(arg.clone());
                    }
                }
            }
            Aggregator::CollectList => {
                if let Value::Array(items) = state {
                    if items.len() < COLLECTION_LIMIT {
                        items.push(arg.clone());
                    }
                }
            }
            Aggregator::TopK(k, distinct) => {
                if let (Value::Array(items), false) = (state, arg.is_null()) {
                    if *distinct && items.contains(arg) {
                        return;
                    }
                    let at = items
                        .iter()
                        .position(|x| arg.sql_cmp(x) == Some(Ordering::Greater))
                        .unwrap_or(items.len());
                    if at < *k {
                        items.insert(at, arg.clone());
                        items.truncate(*k);
                    }
                }
            }
            Aggregator::Histogram => {
                if let (Value::Map(entries), false) = (state, arg.is_null()) {
                    match entries.iter().position(|(k, _)| k == arg) {
                        Some(i) => bump(&mut entries[i].1, 1),
                        None if entries.len() < COLLECTION_LIMIT => {
                            entries.push((arg.clone(), Value::Bigint(1)))
                        }
                        None => {}
                    }
                }
            }
        }
    }

    /// Whether [`Aggregator::undo`] can take a row out (aggregations over tables need it).
    pub fn can_undo(&self) -> bool {
        matches!(
            self,
            Aggregator::CountAll
                | Aggregator::Count
                | Aggregator::Sum(..)
                | Aggregator::Avg
                | Aggregator::CollectList
                | Aggregator::CollectSet
                | Aggregator::CountDistinct
                | Aggregator::Histogram
        )
    }

    /// The state without one row whose argument was `arg` (aggregations over tables).
    /// Returns false when this aggregate cannot take a row out.
    pub fn undo(&self, state: &mut Value, arg: &Value) -> bool {
        match self {
            Aggregator::CountAll => bump(state, -1),
            Aggregator::Count => {
                if !arg.is_null() {
                    bump(state, -1);
                }
            }
            Aggregator::Sum(kind, _) => {
                if !arg.is_null() {
                    let s = std::mem::take(state);
                    *state = arithmetic(BinaryOp::Sub, *kind, s, arg.clone());
                }
            }
            Aggregator::Avg => {
                if let (Some(x), Value::Struct(f)) = (arg.as_f64(), state) {
                    f[0] = Value::Double(f[0].as_f64().unwrap_or(0.0) - x);
                    f[1] = Value::Bigint(f[1].as_i64().unwrap_or(0) - 1);
                }
            }
            Aggregator::CollectList | Aggregator::CollectSet | Aggregator::CountDistinct => {
                if let Value::Array(items) = state {
                    if let Some(i) = items.iter().position(|x| x == arg) {
                        items.remove(i);
                    }
                }
            }
            Aggregator::Histogram => {
                if let Value::Map(entries) = state {
                    if let Some(i) = entries.iter().position(|(k, _)| k == arg) {
                        bump(&mut entries[i].1, -1);
                        if entries[i].1.as_i64() == Some(0) {
                            entries.remove(i);
                        }
                    }
                }
            }
            _ => return false,
        }
        true
    }

    /// Two states combined (session windows that a row joins together).
    pub fn merge(&self, a: Value, b: &Value) -> Value {
        match (self, a, b) {
            (_, a, Value::Null) => a,
            (Aggregator::CountAll | Aggregator::Count, a, b) => {
                Value::Bigint(a.as_i64().unwrap_or(0) + b.as_i64().unwrap_or(0))
            }
            (Aggregator::Sum(kind, _), a, b) => arithmetic(BinaryOp::Add, *kind, a, b.clone()),
            (Aggregator::Avg | Aggregator::StddevSamp, Value::Struct(mut x), Value::Struct(y)) => {
                for (i, (p, q)) in x.iter_mut().zip(y).enumerate() {
                    *p = if i + 1 == y.len() {
                        Value::Bigint(p.as_i64().unwrap_or(0) + q.as_i64().unwrap_or(0))
                    } else {
                        Value::Double(p.as_f64().unwrap_or(0.0) + q.as_f64().unwrap_or(0.0))
                    };
                }
                Value::Struct(x)
            }
            (Aggregator::Min | Aggregator::Max, mut a, b) => {
                self.update(&mut a, b);
                a
            }
            (Aggregator::Latest(_), _, b) => b.clone(),
            (Aggregator::Earliest(_), Value::Null, b) => b.clone(),
            (Aggregator::Earliest(_), a, _) => a,
            (Aggregator::Histogram, mut a, Value::Map(entries)) => {
                for (k, n) in entries {
                    for _ in 0..n.as_i64().unwrap_or(0) {
                        self.update(&mut a, k);
                    }
                }
                a
            }
            (_, mut a, Value::Array(items)) => {
                for i in items {
                    self.update(&mut a, i);
                }
                a
            }
            (_, a, _) => a,
        }
    }

    /// What the query shows for a state.
    pub fn result(&self, state: &Value) -> Value {
        match self {
            Aggregator::Avg => match state {
                Value::Struct(f) => match (f[0].as_f64(), f[1].as_i64()) {
                    (Some(sum), Some(n)) if n > 0 => Value::Double(sum / n as f64),
                    _ => Value::Null,
                },
                _ => Value::Null,
            },
            Aggregator::StddevSamp => match state {
                Value::Struct(f) => match (f[0].as_f64(), f[1].as_f64(), f[2].as_i64()) {
                    (Some(sum), Some(sq), Some(n)) if n > 1 => {
                        let n = n as f64;
                        Value::Double(((sq - sum * sum / n) / (n - 1.0)).max(0.0).sqrt())
                    }
                    _ => Value::Null,
                },
                _ => Value::Null,
            },
            Aggregator::CountDistinct => match state {
                Value::Array(items) => Value::Bigint(items.len() as i64),
                _ => Value::Bigint(0),
            },
            Aggregator::Earliest(_) => match state {
                Value::Array(items) => items.first().cloned().unwrap_or(Value::Null),
                _ => Value::Null,
            },
            _ => state.clone(),
        }
    }
}

fn bump(v: &mut Value, by: i64) {
    *v = Value::Bigint(v.as_i64().unwrap_or(0) + by);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, arg: SqlType, params: &[Value], values: &[Value]) -> Value {
        let (a, _) = Aggregator::new(name, Some(&arg), params).unwrap();
        let mut s = a.init();
        for v in values {
            a.update(&mut s, v);
        }
        a.result(&s)
    }

    #[test]
    fn aggregates_fold_rows() {
        let xs = [Value::Int(3), Value::Null, Value::Int(5), Value::Int(3)];
        assert_eq!(run("COUNT", SqlType::Int, &[], &xs), Value::Bigint(3));
        assert_eq!(run("SUM", SqlType::Int, &[], &xs), Value::Int(11));
        assert_eq!(
            run("AVG", SqlType::Int, &[], &xs),
            Value::Double(11.0 / 3.0)
        );
        assert_eq!(run("MIN", SqlType::Int, &[], &xs), Value::Int(3));
        assert_eq!(run("MAX", SqlType::Int, &[], &xs), Value::Int(5));
        assert_eq!(
            run("COUNT_DISTINCT", SqlType::Int, &[], &xs),
            Value::Bigint(2)
        );
        assert_eq!(
            run("LATEST_BY_OFFSET", SqlType::Int, &[], &xs),
            Value::Int(3)
        );
        assert_eq!(
            run("EARLIEST_BY_OFFSET", SqlType::Int, &[], &xs),
            Value::Int(3)
        );
        assert_eq!(
            run("TOPK", SqlType::Int, &[Value::Int(2)], &xs),
            Value::Array(vec![Value::Int(5), Value::Int(3)])
        );
        assert_eq!(
            run("COLLECT_SET", SqlType::Int, &[], &xs),
            Value::Array(vec![Value::Int(3), Value::Int(5)])
        );
        assert_eq!(
            run(
                "HISTOGRAM",
                SqlType::String,
                &[],
                &[Value::string("a"), Value::string("b"), Value::string("a")]
            ),
            Value::Map(vec![
                (Value::string("a"), Value::Bigint(2)),
                (Value::string("b"), Value::Bigint(1))
            ])
        );
    }
}
