//! Expressions bound to a schema: column names resolved to positions in a row, functions to
//! their implementations, types checked. Evaluation never fails: as in ksqlDB, a value that
//! cannot be computed (a bad cast, a division by zero, a function's error) is NULL.

use std::sync::Arc;

use crate::ast::{BinaryOp, Expr};
use crate::error::{Result, SqlError};
use crate::functions::{self, ScalarFn};
use crate::types::SqlType;
use crate::value::{Row, Value, rescale};

/// A column that expressions can name.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeColumn {
    /// The source alias it belongs to, if any (joins qualify columns with it).
    pub qualifier: Option<String>,
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: SqlType,
}

/// The columns of the rows an expression reads, in row order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scope {
    /// The columns.
    pub columns: Vec<ScopeColumn>,
}

impl Scope {
    /// A scope of unqualified columns.
    pub fn of(columns: impl IntoIterator<Item = (String, SqlType)>) -> Self {
        Scope {
            columns: columns
                .into_iter()
                .map(|(name, ty)| ScopeColumn {
                    qualifier: None,
                    name,
                    ty,
                })
                .collect(),
        }
    }

    /// The position and type of the column `name` (qualified or not).
    pub fn resolve(&self, qualifier: Option<&str>, name: &str) -> Result<(usize, &SqlType)> {
        let matches: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                c.name == name
                    && match qualifier {
                        Some(q) => c.qualifier.as_deref() == Some(q),
                        None => true,
                    }
            })
            .map(|(i, _)| i)
            .collect();
        match matches.as_slice() {
            [i] => Ok((*i, &self.columns[*i].ty)),
            [] => {
                let shown = match qualifier {
                    Some(q) => format!("{q}.{name}"),
                    None => name.to_string(),
                };
                Err(SqlError::statement(format!(
                    "Line: 1, Col: 1: {} cannot be resolved.{}",
                    crate::ast::quote_if_needed(&shown),
                    self.suggestion(name)
                )))
            }
            _ => Err(SqlError::statement(format!(
                "Column '{name}' is ambiguous: it could be {}. Qualify it with the source's name or alias.",
                matches
                    .iter()
                    .map(|i| format!(
                        "{}.{name}",
                        self.columns[*i].qualifier.as_deref().unwrap_or("?")
                    ))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ))),
        }
    }

    fn suggestion(&self, name: &str) -> String {
        match self
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
        {
            Some(c) => format!(
                " Did you mean {}? (Quoted names keep their case; unquoted names are upper-cased.)",
                crate::ast::quote_if_needed(&c.name)
            ),
            None => String::new(),
        }
    }
}

/// A bound expression, ready to evaluate against rows of its scope.
#[derive(Debug, Clone)]
pub enum Compiled {
    /// The value at a position of the row.
    Column(usize),
    /// A constant.
    Literal(Value),
    /// Arithmetic, comparison, logic.
    Binary(BinaryOp, Box<Compiled>, Box<Compiled>, NumericKind),
    /// `-x`.
    Negate(Box<Compiled>),
    /// `NOT x`.
    Not(Box<Compiled>),
    /// A scalar function.
    Call(&'static ScalarFn, Vec<Compiled>),
    /// `CASE`.
    Case(Vec<(Compiled, Compiled)>, Option<Box<Compiled>>),
    /// `CAST`.
    Cast(Box<Compiled>, SqlType),
    /// `a[i]`.
    Subscript(Box<Compiled>, Box<Compiled>),
    /// `s->field`: the field's position in the struct.
    Field(Box<Compiled>, usize),
    /// `IS [NOT] NULL`.
    IsNull(Box<Compiled>, bool),
    /// `[NOT] IN (…)`.
    InList(Box<Compiled>, Vec<Compiled>, bool),
    /// `[NOT] LIKE`: the pattern compiled when constant.
    Like(Box<Compiled>, LikePattern, bool),
    /// `ARRAY[…]`.
    Array(Vec<Compiled>),
    /// `MAP(…)`.
    Map(Vec<(Compiled, Compiled)>),
    /// `STRUCT(…)`.
    Struct(Vec<Compiled>),
}

/// How a binary operator's operands are brought to one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumericKind {
    /// Not arithmetic.
    None,
    /// 32-bit integers.
    Int,
    /// 64-bit integers.
    Bigint,
    /// Doubles.
    Double,
    /// Decimals at this scale.
    Decimal(u8),
}

/// A LIKE pattern.
#[derive(Debug, Clone)]
pub enum LikePattern {
    /// Known at compile time.
    Fixed(Arc<regex::Regex>),
    /// Computed per row, with the escape character.
    Dynamic(Box<Compiled>, Option<char>),
}

/// Binds `expr` to `scope`: its compiled form and its type.
pub fn compile(expr: &Expr, scope: &Scope) -> Result<(Compiled, SqlType)> {
    Ok(match expr {
        Expr::Column { qualifier, name } => {
            let (i, ty) = scope.resolve(qualifier.as_deref(), name)?;
            (Compiled::Column(i), ty.clone())
        }
        Expr::Literal(v) => (Compiled::Literal(v.clone()), literal_type(v)),
        Expr::Binary(op, a, b) => {
            let (ca, ta) = compile(a, scope)?;
            let (cb, tb) = compile(b, scope)?;
            binary(*op, ca, ta, cb, tb, expr)?
        }
        Expr::Negate(a) => {
            let (c, t) = compile(a, scope)?;
            if !t.is_numeric() {
                return Err(type_error(expr, &format!("'-' needs a number, not {t}")));
            }
            (Compiled::Negate(Box::new(c)), t)
        }
        Expr::Not(a) => {
            let (c, t) = compile(a, scope)?;
            expect_boolean(&t, a)?;
            (Compiled::Not(Box::new(c)), SqlType::Boolean)
        }
        Expr::Function { name, args, star } => {
            if functions::aggregate(name).is_some() {
                return Err(SqlError::statement(format!(
                    "Aggregate function {name} is used where no aggregation happens: {expr}. \
                     Aggregations need a GROUP BY (and are not allowed in WHERE or GROUP BY)."
                )));
            }
            if *star {
                return Err(SqlError::statement(format!(
                    "{name}(*) is not a function call"
                )));
            }
            let Some(f) = functions::scalar(name) else {
                return Err(SqlError::statement(format!(
                    "Can't find any functions with the name '{name}'. SHOW FUNCTIONS lists them."
                )));
            };
            let mut compiled = Vec::with_capacity(args.len());
            let mut types = Vec::with_capacity(args.len());
            for a in args {
                if let Expr::Lambda(..) = a {
                    return Err(SqlError::statement(format!(
                        "Lambda arguments are not supported yet: {expr}"
                    )));
                }
                let (c, t) = compile(a, scope)?;
                compiled.push(c);
                types.push(t);
            }
            let ty = (f.returns)(&types).map_err(|e| {
                SqlError::statement(format!(
                    "Function '{name}' does not accept parameters ({}): {e}",
                    types
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            (Compiled::Call(f, compiled), ty)
        }
        Expr::Case {
            operand,
            whens,
            otherwise,
        } => {
            let operand = operand.as_ref().map(|o| compile(o, scope)).transpose()?;
            let mut branches = Vec::new();
            let mut result_type: Option<SqlType> = None;
            for (w, t) in whens {
                let (cw, tw) = compile(w, scope)?;
                let cw = match &operand {
                    Some((co, to)) => binary(BinaryOp::Eq, co.clone(), to.clone(), cw, tw, w)?.0,
                    None => {
                        expect_boolean(&tw, w)?;
                        cw
                    }
                };
                let (ct, tt) = compile(t, scope)?;
                result_type = Some(unify(result_type, tt, t)?);
                branches.push((cw, ct));
            }
            let otherwise = match otherwise {
                Some(e) => {
                    let (c, t) = compile(e, scope)?;
                    result_type = Some(unify(result_type, t, e)?);
                    Some(Box::new(c))
                }
                None => None,
            };
            (
                Compiled::Case(branches, otherwise),
                result_type.unwrap_or(SqlType::String),
            )
        }
        Expr::Cast(e, ty) => {
            let (c, _) = compile(e, scope)?;
            (Compiled::Cast(Box::new(c), ty.clone()), ty.clone())
        }
        Expr::Subscript(a, i) => {
            let (ca, ta) = compile(a, scope)?;
            let (ci, ti) = compile(i, scope)?;
            let ty = match &ta {
                SqlType::Array(e) if matches!(ti, SqlType::Int | SqlType::Bigint) => (**e).clone(),
                SqlType::Map(_, v) => (**v).clone(),
                _ => {
                    return Err(type_error(
                        expr,
                        &format!("cannot subscript {ta} with {ti}"),
                    ));
                }
            };
            (Compiled::Subscript(Box::new(ca), Box::new(ci)), ty)
        }
        Expr::Field(a, name) => {
            let (ca, ta) = compile(a, scope)?;
            let Some((i, ft)) = ta.field(name) else {
                return Err(type_error(expr, &format!("{ta} has no field '{name}'")));
            };
            (Compiled::Field(Box::new(ca), i), ft.clone())
        }
        Expr::IsNull(a, negated) => {
            let (c, _) = compile(a, scope)?;
            (Compiled::IsNull(Box::new(c), *negated), SqlType::Boolean)
        }
        Expr::Between(a, lo, hi, negated) => {
            let ge = Expr::Binary(BinaryOp::GtEq, a.clone(), lo.clone());
            let le = Expr::Binary(BinaryOp::LtEq, a.clone(), hi.clone());
            let both = Expr::Binary(BinaryOp::And, Box::new(ge), Box::new(le));
            let e = if *negated {
                Expr::Not(Box::new(both))
            } else {
                both
            };
            compile(&e, scope)?
        }
        Expr::InList(a, list, negated) => {
            let (ca, ta) = compile(a, scope)?;
            let mut items = Vec::new();
            for e in list {
                let (c, t) = compile(e, scope)?;
                comparable(&ta, &t, expr)?;
                items.push(c);
            }
            (
                Compiled::InList(Box::new(ca), items, *negated),
                SqlType::Boolean,
            )
        }
        Expr::Like(a, p, negated, escape) => {
            let (ca, ta) = compile(a, scope)?;
            if ta != SqlType::String {
                return Err(type_error(expr, &format!("LIKE needs a STRING, not {ta}")));
            }
            let pattern = match &**p {
                Expr::Literal(Value::String(s)) => {
                    LikePattern::Fixed(Arc::new(like_regex(s, *escape)))
                }
                other => LikePattern::Dynamic(Box::new(compile(other, scope)?.0), *escape),
            };
            (
                Compiled::Like(Box::new(ca), pattern, *negated),
                SqlType::Boolean,
            )
        }
        Expr::Array(items) => {
            let mut compiled = Vec::new();
            let mut ty = None;
            for e in items {
                let (c, t) = compile(e, scope)?;
                ty = Some(unify(ty, t, e)?);
                compiled.push(c);
            }
            (
                Compiled::Array(compiled),
                SqlType::Array(Box::new(ty.unwrap_or(SqlType::String))),
            )
        }
        Expr::Map(entries) => {
            let mut compiled = Vec::new();
            let (mut kt, mut vt) = (None, None);
            for (k, v) in entries {
                let (ck, tk) = compile(k, scope)?;
                let (cv, tv) = compile(v, scope)?;
                kt = Some(unify(kt, tk, k)?);
                vt = Some(unify(vt, tv, v)?);
                compiled.push((ck, cv));
            }
            (
                Compiled::Map(compiled),
                SqlType::Map(
                    Box::new(kt.unwrap_or(SqlType::String)),
                    Box::new(vt.unwrap_or(SqlType::String)),
                ),
            )
        }
        Expr::Struct(fields) => {
            let mut compiled = Vec::new();
            let mut types = Vec::new();
            for (n, e) in fields {
                let (c, t) = compile(e, scope)?;
                compiled.push(c);
                types.push((n.clone(), t));
            }
            (Compiled::Struct(compiled), SqlType::Struct(types))
        }
        Expr::Lambda(..) => {
            return Err(SqlError::statement(format!(
                "A lambda is only allowed as a function's argument: {expr}"
            )));
        }
    })
}

fn type_error(expr: &Expr, what: &str) -> SqlError {
    SqlError::statement(format!("Error processing expression: {expr}. {what}"))
}

fn expect_boolean(t: &SqlType, e: &Expr) -> Result<()> {
    if matches!(t, SqlType::Boolean | SqlType::Null) {
        Ok(())
    } else {
        Err(type_error(e, &format!("Expected BOOLEAN, but got {t}")))
    }
}

/// The common type of two branches.
fn unify(current: Option<SqlType>, next: SqlType, e: &Expr) -> Result<SqlType> {
    match current {
        None => Ok(next),
        Some(SqlType::Null) => Ok(next),
        Some(c) if c == next || next == SqlType::Null => Ok(c),
        Some(c) if c.is_numeric() && next.is_numeric() => Ok(SqlType::wider(&c, &next)),
        Some(c) => Err(type_error(
            e,
            &format!("Invalid types: all values must be of one type, but {c} and {next} differ"),
        )),
    }
}

fn comparable(a: &SqlType, b: &SqlType, e: &Expr) -> Result<()> {
    let ok = a == b
        || *a == SqlType::Null
        || *b == SqlType::Null
        || (a.is_numeric() && b.is_numeric())
        || matches!(
            (a, b),
            (SqlType::Timestamp, SqlType::String)
                | (SqlType::String, SqlType::Timestamp)
                | (SqlType::Date, SqlType::String)
                | (SqlType::String, SqlType::Date)
        )
        || matches!(
            (a, b),
            (SqlType::Array(_), SqlType::Array(_))
                | (SqlType::Struct(_), SqlType::Struct(_))
                | (SqlType::Map(..), SqlType::Map(..))
        );
    if ok {
        Ok(())
    } else {
        Err(type_error(e, &format!("Cannot compare {a} to {b}")))
    }
}

/// The type of a literal.
pub fn literal_type(v: &Value) -> SqlType {
    v.natural_type()
}

fn binary(
    op: BinaryOp,
    ca: Compiled,
    ta: SqlType,
    cb: Compiled,
    tb: SqlType,
    expr: &Expr,
) -> Result<(Compiled, SqlType)> {
    use BinaryOp::*;
    let (kind, ty) = match op {
        And | Or => {
            for (t, side) in [(&ta, "left"), (&tb, "right")] {
                if !matches!(t, SqlType::Boolean | SqlType::Null) {
                    return Err(type_error(
                        expr,
                        &format!(
                            "the {side} side of {} must be BOOLEAN, not {t}",
                            op.symbol()
                        ),
                    ));
                }
            }
            (NumericKind::None, SqlType::Boolean)
        }
        Eq | NotEq | Lt | LtEq | Gt | GtEq => {
            comparable(&ta, &tb, expr)?;
            // Timestamps compare with their text forms, parsed once; so do BIGINT times such
            // as WINDOWSTART (ksqlDB's pull queries take '2020-07-01T08:00:00' bounds).
            let as_millis = |s: &str, ty: &SqlType| match crate::time::parse_timestamp_text(s) {
                Some(t) if *ty == SqlType::Bigint => Value::Bigint(t),
                Some(t) => Value::Timestamp(t),
                None => Value::Null,
            };
            let (ca, cb) = match (&ta, &tb, &ca, &cb) {
                (SqlType::Bigint, SqlType::String, _, Compiled::Literal(Value::String(s))) => {
                    (ca.clone(), Compiled::Literal(as_millis(s, &ta)))
                }
                (SqlType::String, SqlType::Bigint, Compiled::Literal(Value::String(s)), _) => {
                    (Compiled::Literal(as_millis(s, &tb)), cb.clone())
                }
                (SqlType::Timestamp, SqlType::String, _, Compiled::Literal(Value::String(s))) => (
                    ca.clone(),
                    Compiled::Literal(
                        crate::time::parse_timestamp_text(s).map_or(Value::Null, Value::Timestamp),
                    ),
                ),
                (SqlType::String, SqlType::Timestamp, Compiled::Literal(Value::String(s)), _) => (
                    Compiled::Literal(
                        crate::time::parse_timestamp_text(s).map_or(Value::Null, Value::Timestamp),
                    ),
                    cb.clone(),
                ),
                _ => (ca.clone(), cb.clone()),
            };
            return Ok((
                Compiled::Binary(op, Box::new(ca), Box::new(cb), NumericKind::None),
                SqlType::Boolean,
            ));
        }
        Concat => {
            if !matches!(ta, SqlType::String | SqlType::Null)
                || !matches!(tb, SqlType::String | SqlType::Null)
            {
                return Err(type_error(
                    expr,
                    &format!("'||' joins STRINGs, not {ta} and {tb}"),
                ));
            }
            (NumericKind::None, SqlType::String)
        }
        Add if ta == SqlType::String && tb == SqlType::String => {
            (NumericKind::None, SqlType::String)
        }
        Add | Sub | Mul | Div | Mod => {
            let numeric = |t: &SqlType| t.is_numeric() || *t == SqlType::Null;
            if !numeric(&ta) || !numeric(&tb) {
                return Err(type_error(
                    expr,
                    &format!("Unsupported arithmetic types. {ta} {} {tb}", op.symbol()),
                ));
            }
            let ty = match SqlType::wider(&ta, &tb) {
                SqlType::Decimal(p, s) => match op {
                    Mul => {
                        let (s1, s2) = (decimal_scale(&ta), decimal_scale(&tb));
                        SqlType::Decimal(p.saturating_add(s1 + s2).min(38), (s1 + s2).min(38))
                    }
                    Div => SqlType::Decimal(38, s.max(6)),
                    _ => SqlType::Decimal(p, s),
                },
                t => t,
            };
            let kind = match &ty {
                SqlType::Int => NumericKind::Int,
                SqlType::Bigint => NumericKind::Bigint,
                SqlType::Double => NumericKind::Double,
                SqlType::Decimal(_, s) => NumericKind::Decimal(*s),
                _ => NumericKind::None,
            };
            (kind, ty)
        }
    };
    Ok((Compiled::Binary(op, Box::new(ca), Box::new(cb), kind), ty))
}

fn decimal_scale(t: &SqlType) -> u8 {
    match t {
        SqlType::Decimal(_, s) => *s,
        _ => 0,
    }
}

/// A LIKE pattern (`%` any text, `_` one character) as an anchored regex.
pub fn like_regex(pattern: &str, escape: Option<char>) -> regex::Regex {
    let mut re = String::from("(?s)^");
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if Some(c) == escape {
            if let Some(n) = chars.next() {
                re.push_str(&regex::escape(&n.to_string()));
            }
            continue;
        }
        match c {
            '%' => re.push_str(".*"),
            '_' => re.push('.'),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re).unwrap_or_else(|_| regex::Regex::new("^$").expect("a valid regex"))
}

impl Compiled {
    /// The value of this expression for `row`.
    pub fn eval(&self, row: &[Value]) -> Value {
        match self {
            Compiled::Column(i) => row.get(*i).cloned().unwrap_or(Value::Null),
            Compiled::Literal(v) => v.clone(),
            Compiled::Binary(op, a, b, kind) => eval_binary(*op, a, b, *kind, row),
            Compiled::Negate(a) => match a.eval(row) {
                Value::Int(v) => v.checked_neg().map_or(Value::Null, Value::Int),
                Value::Bigint(v) => v.checked_neg().map_or(Value::Null, Value::Bigint),
                Value::Double(v) => Value::Double(-v),
                Value::Decimal(u, s) => Value::Decimal(-u, s),
                _ => Value::Null,
            },
            Compiled::Not(a) => match a.eval(row) {
                Value::Boolean(b) => Value::Boolean(!b),
                _ => Value::Null,
            },
            Compiled::Call(f, args) => {
                let values: Vec<Value> = args.iter().map(|a| a.eval(row)).collect();
                (f.eval)(&values)
            }
            Compiled::Case(branches, otherwise) => {
                for (w, t) in branches {
                    if w.eval(row).as_bool() == Some(true) {
                        return t.eval(row);
                    }
                }
                otherwise.as_ref().map_or(Value::Null, |e| e.eval(row))
            }
            Compiled::Cast(e, ty) => cast(e.eval(row), ty),
            Compiled::Subscript(a, i) => match (a.eval(row), i.eval(row)) {
                (Value::Array(items), index) => {
                    let Some(n) = index.as_i64() else {
                        return Value::Null;
                    };
                    let len = items.len() as i64;
                    let at = if n > 0 { n - 1 } else { len + n };
                    if (0..len).contains(&at) {
                        items[at as usize].clone()
                    } else {
                        Value::Null
                    }
                }
                (Value::Map(entries), key) => entries
                    .into_iter()
                    .find(|(k, _)| *k == key)
                    .map_or(Value::Null, |(_, v)| v),
                _ => Value::Null,
            },
            Compiled::Field(a, i) => match a.eval(row) {
                Value::Struct(mut fields) if *i < fields.len() => fields.swap_remove(*i),
                _ => Value::Null,
            },
            Compiled::IsNull(a, negated) => Value::Boolean(a.eval(row).is_null() != *negated),
            Compiled::InList(a, items, negated) => {
                let v = a.eval(row);
                if v.is_null() {
                    return Value::Null;
                }
                let found = items.iter().any(|i| i.eval(row) == v);
                Value::Boolean(found != *negated)
            }
            Compiled::Like(a, pattern, negated) => {
                let Value::String(s) = a.eval(row) else {
                    return Value::Null;
                };
                let matched = match pattern {
                    LikePattern::Fixed(re) => re.is_match(&s),
                    LikePattern::Dynamic(p, escape) => match p.eval(row) {
                        Value::String(p) => like_regex(&p, *escape).is_match(&s),
                        _ => return Value::Null,
                    },
                };
                Value::Boolean(matched != *negated)
            }
            Compiled::Array(items) => Value::Array(items.iter().map(|i| i.eval(row)).collect()),
            Compiled::Map(entries) => Value::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.eval(row), v.eval(row)))
                    .collect(),
            ),
            Compiled::Struct(fields) => Value::Struct(fields.iter().map(|f| f.eval(row)).collect()),
        }
    }

    /// Whether the expression is true for `row` (NULL is not).
    pub fn is_true(&self, row: &[Value]) -> bool {
        matches!(self.eval(row), Value::Boolean(true))
    }

    /// The column this expression reads as is, if it is one.
    pub fn as_column(&self) -> Option<usize> {
        match self {
            Compiled::Column(i) => Some(*i),
            _ => None,
        }
    }
}

fn eval_binary(
    op: BinaryOp,
    a: &Compiled,
    b: &Compiled,
    kind: NumericKind,
    row: &[Value],
) -> Value {
    use BinaryOp::*;
    match op {
        And => match a.eval(row) {
            Value::Boolean(false) => Value::Boolean(false),
            x => match (x, b.eval(row)) {
                (_, Value::Boolean(false)) => Value::Boolean(false),
                (Value::Boolean(true), Value::Boolean(true)) => Value::Boolean(true),
                _ => Value::Null,
            },
        },
        Or => match a.eval(row) {
            Value::Boolean(true) => Value::Boolean(true),
            x => match (x, b.eval(row)) {
                (_, Value::Boolean(true)) => Value::Boolean(true),
                (Value::Boolean(false), Value::Boolean(false)) => Value::Boolean(false),
                _ => Value::Null,
            },
        },
        Eq | NotEq | Lt | LtEq | Gt | GtEq => {
            let (x, y) = (a.eval(row), b.eval(row));
            let Some(ord) = x.sql_cmp(&y) else {
                return Value::Null;
            };
            use std::cmp::Ordering::*;
            Value::Boolean(match op {
                Eq => ord == Equal,
                NotEq => ord != Equal,
                Lt => ord == Less,
                LtEq => ord != Greater,
                Gt => ord == Greater,
                _ => ord != Less,
            })
        }
        Concat | Add if kind == NumericKind::None => match (a.eval(row), b.eval(row)) {
            (Value::String(x), Value::String(y)) => Value::string(format!("{x}{y}")),
            _ => Value::Null,
        },
        _ => arithmetic(op, kind, a.eval(row), b.eval(row)),
    }
}

/// `x op y` for numbers of `kind`.
pub fn arithmetic(op: BinaryOp, kind: NumericKind, x: Value, y: Value) -> Value {
    use BinaryOp::*;
    if x.is_null() || y.is_null() {
        return Value::Null;
    }
    match kind {
        NumericKind::Int | NumericKind::Bigint => {
            let (Some(p), Some(q)) = (x.as_i64(), y.as_i64()) else {
                return Value::Null;
            };
            let r = match op {
                Add => p.checked_add(q),
                Sub => p.checked_sub(q),
                Mul => p.checked_mul(q),
                Div => p.checked_div(q),
                Mod => p.checked_rem(q),
                _ => None,
            };
            match (r, kind) {
                (Some(r), NumericKind::Int) => Value::Int(r as i32),
                (Some(r), _) => Value::Bigint(r),
                (None, _) => Value::Null,
            }
        }
        NumericKind::Double => {
            let (Some(p), Some(q)) = (x.as_f64(), y.as_f64()) else {
                return Value::Null;
            };
            Value::Double(match op {
                Add => p + q,
                Sub => p - q,
                Mul => p * q,
                Div => p / q,
                Mod => p % q,
                _ => return Value::Null,
            })
        }
        NumericKind::Decimal(scale) => {
            let (xs, ys) = (value_scale(&x), value_scale(&y));
            let (Some(p), Some(q)) = (x.as_decimal(xs), y.as_decimal(ys)) else {
                return Value::Null;
            };
            let r = match op {
                Add | Sub | Mod => {
                    let s = xs.max(ys);
                    let (p, q) = (rescale(p, xs, s), rescale(q, ys, s));
                    let r = match op {
                        Add => p.checked_add(q),
                        Sub => p.checked_sub(q),
                        _ => p.checked_rem(q),
                    };
                    r.map(|r| rescale(r, s, scale))
                }
                Mul => p.checked_mul(q).map(|r| rescale(r, xs + ys, scale)),
                Div => {
                    if q == 0 {
                        None
                    } else {
                        // p/10^xs ÷ q/10^ys at `scale` places, rounded half up.
                        let shift = i32::from(scale) + i32::from(ys) - i32::from(xs) + 1;
                        let num = if shift >= 0 {
                            10i128
                                .checked_pow(shift as u32)
                                .and_then(|f| p.checked_mul(f))
                        } else {
                            Some(p / 10i128.pow((-shift) as u32))
                        };
                        num.map(|n| rescale(n / q, scale + 1, scale))
                    }
                }
                _ => None,
            };
            r.map_or(Value::Null, |r| Value::Decimal(r, scale))
        }
        NumericKind::None => Value::Null,
    }
}

fn value_scale(v: &Value) -> u8 {
    match v {
        Value::Decimal(_, s) => *s,
        _ => 0,
    }
}

/// `CAST(v AS ty)`: NULL when the value does not convert.
pub fn cast(v: Value, ty: &SqlType) -> Value {
    use SqlType as T;
    if v.is_null() {
        return Value::Null;
    }
    match ty {
        T::Null => Value::Null,
        T::String => match &v {
            Value::String(_) => v,
            _ => Value::string(v.to_text()),
        },
        T::Boolean => match &v {
            Value::Boolean(_) => v,
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "t" | "yes" | "y" => Value::Boolean(true),
                "false" | "f" | "no" | "n" => Value::Boolean(false),
                _ => Value::Null,
            },
            _ => Value::Null,
        },
        T::Int | T::Bigint => {
            let n = match &v {
                Value::Int(_) | Value::Bigint(_) => v.as_i64(),
                Value::Double(d) if d.is_finite() => Some(d.trunc() as i64),
                Value::Decimal(u, s) => i64::try_from(u / 10i128.pow(u32::from(*s))).ok(),
                Value::String(s) => s.trim().parse::<i64>().ok(),
                Value::Timestamp(t) => Some(*t),
                _ => None,
            };
            match (n, ty) {
                (Some(n), T::Int) => i32::try_from(n).map_or(Value::Null, Value::Int),
                (Some(n), _) => Value::Bigint(n),
                (None, _) => Value::Null,
            }
        }
        T::Double => match &v {
            Value::String(s) => s.trim().parse::<f64>().map_or(Value::Null, Value::Double),
            _ => v.as_f64().map_or(Value::Null, Value::Double),
        },
        T::Decimal(p, s) => {
            let u = match &v {
                Value::String(text) => parse_decimal(text, *s),
                _ => v.as_decimal(*s),
            };
            match u {
                Some(u) if crate::value::fits_precision(u, *p) => Value::Decimal(u, *s),
                _ => Value::Null,
            }
        }
        T::Timestamp => match &v {
            Value::Timestamp(_) => v,
            Value::String(s) => {
                crate::time::parse_timestamp_text(s).map_or(Value::Null, Value::Timestamp)
            }
            Value::Date(d) => Value::Timestamp(i64::from(*d) * 86_400_000),
            _ => Value::Null,
        },
        T::Date => match &v {
            Value::Date(_) => v,
            Value::String(s) => crate::time::parse_date_text(s).map_or(Value::Null, Value::Date),
            Value::Timestamp(t) => Value::Date(t.div_euclid(86_400_000) as i32),
            _ => Value::Null,
        },
        T::Time => match &v {
            Value::Time(_) => v,
            Value::String(s) => crate::time::parse_time_text(s).map_or(Value::Null, Value::Time),
            Value::Timestamp(t) => Value::Time(t.rem_euclid(86_400_000)),
            _ => Value::Null,
        },
        T::Bytes => match &v {
            Value::Bytes(_) => v,
            _ => Value::Null,
        },
        T::Array(e) => match v {
            Value::Array(items) => Value::Array(items.into_iter().map(|i| cast(i, e)).collect()),
            _ => Value::Null,
        },
        T::Map(k, t) => match v {
            Value::Map(entries) => Value::Map(
                entries
                    .into_iter()
                    .map(|(key, val)| (cast(key, k), cast(val, t)))
                    .collect(),
            ),
            _ => Value::Null,
        },
        T::Struct(_) => match v {
            Value::Struct(_) => v,
            _ => Value::Null,
        },
    }
}

/// Decimal text as an unscaled value at `scale` (rounded half up), read without allocating.
pub fn parse_decimal(text: &str, scale: u8) -> Option<i128> {
    let t = text.trim();
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if (whole.is_empty() && frac.is_empty())
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || whole.len() + frac.len() > 38
    {
        return None;
    }
    let mut u: i128 = 0;
    for b in whole.bytes() {
        u = u * 10 + i128::from(b - b'0');
    }
    let kept = usize::from(scale).min(frac.len());
    for b in frac.bytes().take(kept) {
        u = u * 10 + i128::from(b - b'0');
    }
    for _ in kept..usize::from(scale) {
        u *= 10;
    }
    // Half up on the first dropped digit.
    if frac.as_bytes().get(kept).is_some_and(|d| *d >= b'5') {
        u += 1;
    }
    Some(if negative { -u } else { u })
}

/// Evaluates a constant expression (INSERT … VALUES).
pub fn eval_constant(expr: &Expr) -> Result<(Value, SqlType)> {
    let (c, t) = compile(expr, &Scope::default())?;
    Ok((c.eval(&Row::new()), t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse_expression;

    fn eval(text: &str, scope: &Scope, row: &[Value]) -> Value {
        let (c, _) = compile(&parse_expression(text).unwrap(), scope).unwrap();
        c.eval(row)
    }

    #[test]
    fn arithmetic_and_logic() {
        let scope = Scope::of([
            ("A".to_string(), SqlType::Int),
            ("B".to_string(), SqlType::Double),
        ]);
        let row = vec![Value::Int(7), Value::Double(0.5)];
        assert_eq!(eval("A * 2 + 1", &scope, &row), Value::Int(15));
        assert_eq!(eval("A / 2", &scope, &row), Value::Int(3));
        assert_eq!(eval("A + B", &scope, &row), Value::Double(7.5));
        assert_eq!(eval("A / 0", &scope, &row), Value::Null);
        assert_eq!(eval("A > 3 AND B < 1", &scope, &row), Value::Boolean(true));
        assert_eq!(eval("NULL AND FALSE", &scope, &row), Value::Boolean(false));
        assert_eq!(
            eval("A BETWEEN 1 AND 5", &scope, &row),
            Value::Boolean(false)
        );
        assert_eq!(eval("A IN (1, 7)", &scope, &row), Value::Boolean(true));
        assert_eq!(eval("1.10 + 2.205", &scope, &row), Value::Decimal(3305, 3));
        assert_eq!(
            eval("CAST('12.345' AS DECIMAL(5, 2))", &scope, &row),
            Value::Decimal(1235, 2)
        );
        assert_eq!(
            eval("CASE WHEN A > 5 THEN 'big' ELSE 'small' END", &scope, &row),
            Value::string("big")
        );
        assert_eq!(eval("'ab' LIKE 'a%'", &scope, &row), Value::Boolean(true));
        assert_eq!(eval("ARRAY[1, 2, 3][-1]", &scope, &row), Value::Int(3));
        assert_eq!(
            eval("STRUCT(x := 1, y := 'b')->y", &scope, &row),
            Value::string("b")
        );
    }

    #[test]
    fn unknown_columns_and_type_errors_are_clear() {
        let scope = Scope::of([("Zone".to_string(), SqlType::String)]);
        let err = compile(&parse_expression("zone").unwrap(), &scope).unwrap_err();
        assert!(
            err.message.contains("ZONE cannot be resolved"),
            "{}",
            err.message
        );
        assert!(err.message.contains("`Zone`"), "{}", err.message);
        let err = compile(&parse_expression("`Zone` + 1").unwrap(), &scope).unwrap_err();
        assert!(
            err.message.contains("Unsupported arithmetic types"),
            "{}",
            err.message
        );
        let err = compile(&parse_expression("NOPE(1)").unwrap(), &scope).unwrap_err();
        assert!(
            err.message
                .contains("Can't find any functions with the name 'NOPE'"),
            "{}",
            err.message
        );
    }
}
